"""The FLOP formulas against hand counts, and a `--quick` run of the benchmark end to end."""

import json

import pytest

from bench.speed.flops import (
    bert_layer_flops,
    convbert_layer_flops,
    groupbert_layer_flops,
    model_flops_per_token,
)
from bench.speed.models import BERT_BASE, model_config
from convbert_tf.models.presets import CONVBERT_PRESETS, GROUPBERT_PRESETS


def test_bert_base_flops_match_a_hand_count():
    # Per layer at T=128: q,k,v,o 4*(2*768*768) = 4,718,592; FFN 2*(2*768*3072) = 9,437,184;
    # q k^T and probs @ v 2*(2*128*768) = 393,216  ->  14,548,992; x12 layers.
    assert bert_layer_flops(768, 3072, 128) == 4_718_592 + 9_437_184 + 393_216
    total = model_flops_per_token("bert", BERT_BASE, 128)
    assert total == 12 * 14_548_992
    assert total / 1e9 == pytest.approx(0.175, abs=0.001)  # GroupBERT spec table


def test_convbert_base_flops_match_a_hand_count():
    # D=768, A=384 (6 heads of 64), K=9, I=3072, G=1, T=128.
    hand = (
        3 * 2 * 768 * 384          # q, k, v           1,769,472
        + 2 * 9 * 768              # depthwise taps       13,824
        + 2 * 768 * 384            # pointwise           589,824
        + 2 * 384 * 6 * 9          # kernel generator     41,472
        + 2 * 768 * 384            # conv value proj     589,824
        + 2 * 9 * 384              # shift-and-sum         6,912
        + 4 * 128 * 384            # attention           196,608
        + 2 * 768 * 768            # output 2A -> D    1,179,648
        + 2 * 2 * 768 * 3072       # FFN               9,437,184
    )
    assert hand == 13_824_768
    assert convbert_layer_flops(768, 3072, 12, 128) == hand
    config = CONVBERT_PRESETS["conv_bert_base_en"]["config"]
    ratio = model_flops_per_token("convbert", config, 128) / model_flops_per_token(
        "bert", BERT_BASE, 128)
    # ConvBERT saves one D^2 projection and half the T-dependent attention: 0.950x at T=128,
    # falling with T (0.916x at T=512).
    assert ratio == pytest.approx(0.9502, abs=0.001)
    ratio_512 = model_flops_per_token("convbert", config, 512) / model_flops_per_token(
        "bert", BERT_BASE, 512)
    assert ratio_512 < ratio


def test_grouped_and_projected_convbert_flops():
    # medium-small: G=2 halves the FFN; E=128 adds the 128 -> 384 embeddings projection.
    config = CONVBERT_PRESETS["conv_bert_medium_small_en"]["config"]
    per_layer = convbert_layer_flops(384, 1536, 8, 128, num_groups=2)
    ungrouped = convbert_layer_flops(384, 1536, 8, 128, num_groups=1)
    assert ungrouped - per_layer == 2 * 384 * 1536
    assert model_flops_per_token("convbert", config, 128) == 12 * per_layer + 2 * 128 * 384


def test_groupbert_base_flops_match_the_spec_table():
    # conv 6*768^2 + 2*7*768*16; 2 FFNs of 2*768*3072 + 2*3072*768/4 + 2*768^2; attention.
    assert groupbert_layer_flops(768, 3072, 128) == (
        6 * 768**2 + 2 * 7 * 768 * 16 + 2 * (2 * 768 * 3072 + 2 * 3072 * 192 + 2 * 768**2)
        + 8 * 768**2 + 4 * 128 * 768)
    config = GROUPBERT_PRESETS["group_bert_base_en"]["config"]
    assert model_flops_per_token("groupbert", config, 128) / 1e9 == pytest.approx(0.276,
                                                                                 abs=0.001)


def test_quick_configs_keep_each_architecture():
    assert model_config("convbert_small", quick=True)["embedding_dim"] == 32  # projected
    assert model_config("convbert_base", quick=True)["embedding_dim"] == 64  # not projected
    assert model_config("convbert_medium_small", quick=True)["num_groups"] == 2


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="Unknown model kind"):
        model_flops_per_token("gpt", BERT_BASE, 128)


@pytest.mark.timeout(600)  # ~40 s on an idle 2-core machine; shared load multiplies it
def test_quick_run_writes_the_documented_schema(tmp_path):
    from bench.speed.model_speed import main

    out = tmp_path / "speed.json"
    # Two tiny models without XLA keep this under a minute on 2 shared cores (compiling a
    # training step with XLA alone takes ~1 minute there); the XLA path is what the full
    # benchmark times.
    main(["--quick", "--no-xla", "--models", "convbert_small,bert_base", "--sections", "main",
          "--output", str(out)])
    report = json.loads(out.read_text())
    assert report["schema_version"] == 1
    assert report["settings"]["quick"] is True
    assert report["settings"]["repeats"] == 2
    assert report["settings"]["xla"] is False
    assert len(report["load_average"]["start"]) == 3
    for name in ("convbert_small", "bert_base"):
        for workload in ("forward", "train"):
            result = report["results"][name][workload]
            assert len(result["times_s"]) == 2
            assert result["median_s"] > 0
            tokens = report["settings"]["batch_size"] * report["settings"]["seq_len"]
            assert result["tokens_per_s"] == pytest.approx(tokens / result["median_s"])
            flops = report["flops_per_token"][name][workload]
            assert result["gflop_per_s"] == pytest.approx(
                flops * tokens / result["median_s"] / 1e9)
        assert report["flops_per_token"][name]["train"] == 3 * report["flops_per_token"][
            name]["forward"]
    assert report["ratios"]["vs_bert_base"]["bert_base"]["forward"] == pytest.approx(1.0)
    assert report["environment"]["threads"] >= 1
    # Targets are only evaluated between models that were measured.
    assert report["targets"] == []
    assert (tmp_path / "speed.png").stat().st_size > 10_000
