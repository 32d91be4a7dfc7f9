"""`bench/serving_bf16_profile.py --quick`: per-op step stats of fp32 and bf16 exports (smoke)."""

from bench.serving_bf16_profile import component, main, op_type


def test_ops_land_in_their_component_and_kind():
    scope = "StatefulPartitionedCall/conv_bert_backbone_1/transformer_layer_0_1/"
    assert component(scope + "attention_1/span_conv_1/Softmax") == "span_conv"
    assert component(scope + "attention_1/MatMul_1") == "attention"
    assert component(scope + "attention_layer_norm_1/moments/mean") == "layer_norm"
    assert component(scope + "intermediate_1/Tensordot/MatMul") == "ffn"
    assert component(scope + "Gelu/Erfc") == "ffn"
    assert component("StatefulPartitionedCall/logits_1/BiasAdd") == "other"
    assert op_type("[mklcpu 0.2MB 0.2MB] a/b = _MklMatMul(x, y)") == "_MklMatMul"


def test_quick_run_profiles_every_precision(tmp_path):
    report = main(["--quick", "--output", str(tmp_path / "profile.json")])
    assert set(report["models"]) == {"conv_bert_small", "bert_small"}
    convbert = report["models"]["conv_bert_small"]
    for precision in ("float32", "bfloat16", "bfloat16_all"):
        assert convbert[precision]["by_component_ms"]["span_conv"] > 0
        assert convbert[precision]["by_kind_ms"]["matmul"] > 0
    assert "span_conv" not in report["models"]["bert_small"]["float32"]["by_component_ms"]
    assert convbert["bf16_speedup"]["op_time"] > 0
    assert convbert["bf16_all_speedup"]["op_time"] > 0
    assert (tmp_path / "profile.json").exists()
