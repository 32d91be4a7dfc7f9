"""`bench/tflite_int8_profile.py --perf`: perf's symbols land in the kernels they belong to."""

import os
import sys

from tests.conftest import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))

from tflite_int8_profile import kernel_of  # noqa: E402


def test_symbols_map_to_kernels():
    # Symbols seen in this machine's profiles (bench/results/tflite_int8_profile.json).
    assert kernel_of("xnn_qd8_f32_qc8w_gemm_minmax_ukernel_16x64c4__avx512amx") == \
        "xnnpack_int8_gemm"
    assert kernel_of("xnn_f32_gemm_minmax_ukernel_7x32__avx512f_broadcast") == \
        "xnnpack_fp32_gemm"
    assert kernel_of("xnn_f32_qd8_convert_ukernel__avx512skx_u128") == "activation_quantization"
    assert kernel_of("xnn_f32_rminmax_ukernel__avx512f_u64_acc4") == "activation_quantization"
    assert kernel_of("__memmove_avx512_unaligned_erms") == "data_movement"
    assert kernel_of("thread_main") == "thread_pool"
    assert kernel_of("xnn_f32_vadd_ukernel__avx512f_u32") == "elementwise"
    assert kernel_of("tflite::ops::builtin::fully_connected::EvalHybrid(TfLiteContext*)") == \
        "builtin_fully_connected"
    assert kernel_of("something_unknown") == "other"
