"""Architecture presets: the released configurations (spec tables), without weights.

An architecture preset only fixes the shape. Real weights come by name from the Hugging Face
hub (`from_preset("hf://ORG/NAME")`, the handles in `HUB_CHECKPOINTS`), or from files on disk
(`load_hf_checkpoint` / `load_tf1_checkpoint`, or a preset directory written by
`convbert-tf convert`).
"""

_CONVBERT_COMMON = {
    "vocabulary_size": 30522,
    "num_layers": 12,
    "head_ratio": 2,
    "conv_kernel_size": 9,
    "dropout": 0.1,
    "max_sequence_length": 512,
    "num_segments": 2,
}

CONVBERT_PRESETS = {
    "conv_bert_small_en": {
        "metadata": {"description": "ConvBERT small: 12 layers, D=256, E=128, 4 heads.",
                     "params": 13_143_768, "hf_repo": "YituTech/conv-bert-small"},
        "config": {**_CONVBERT_COMMON, "num_heads": 4, "hidden_dim": 256,
                   "intermediate_dim": 1024, "embedding_dim": 128, "num_groups": 1},
    },
    "conv_bert_medium_small_en": {
        "metadata": {"description": "ConvBERT medium-small: 12 layers, D=384, E=128, 8 heads, "
                                    "2 FFN groups.",
                     "params": 17_475_888, "hf_repo": "YituTech/conv-bert-medium-small"},
        "config": {**_CONVBERT_COMMON, "num_heads": 8, "hidden_dim": 384,
                   "intermediate_dim": 1536, "embedding_dim": 128, "num_groups": 2},
    },
    "conv_bert_base_en": {
        "metadata": {"description": "ConvBERT base: 12 layers, D=768, 12 heads.",
                     "params": 105_680_520, "hf_repo": "YituTech/conv-bert-base"},
        "config": {**_CONVBERT_COMMON, "num_heads": 12, "hidden_dim": 768,
                   "intermediate_dim": 3072, "embedding_dim": 768, "num_groups": 1},
    },
}


def _groupbert(num_layers, hidden_dim, num_heads, description, **metadata):
    return {
        "metadata": {"description": description, **metadata},
        "config": {
            "vocabulary_size": 30522,
            "num_layers": num_layers,
            "num_heads": num_heads,
            "hidden_dim": hidden_dim,
            "intermediate_dim": 4 * hidden_dim,
            "num_groups": 4,
            "conv_kernel_size": 7,
            "conv_group_size": 16,
            "dropout": 0.1,
            "max_sequence_length": 512,
            "num_segments": 2,
            # The released PyTorch model's: epsilon 1e-12 and a convolution bias.
            "layer_norm_epsilon": 1e-12,
            "use_conv_bias": True,
        },
    }


GROUPBERT_PRESETS = {
    "group_bert_tiny_en": _groupbert(2, 128, 2, "GroupBERT tiny: 2 layers, d=128."),
    "group_bert_mini_en": _groupbert(4, 256, 4, "GroupBERT mini: 4 layers, d=256."),
    "group_bert_medium_en": _groupbert(8, 512, 8, "GroupBERT medium: 8 layers, d=512."),
    "group_bert_base_en": _groupbert(12, 768, 12, "GroupBERT base: 12 layers, d=768.",
                                     params=160_217_856,
                                     hf_repo="Graphcore/groupbert-base-uncased"),
    "group_bert_large_en": _groupbert(24, 1024, 16, "GroupBERT large: 24 layers, d=1024."),
}


# Released checkpoints reachable by name (`Backbone.from_preset("hf://" + repo)`): what each
# repository holds, who wrote it, and the architecture preset it matches (parameter counts
# are those presets', checked by the model tests).
HUB_CHECKPOINTS = {
    "YituTech/conv-bert-small": {
        "backbone": "ConvBertBackbone", "preset": "conv_bert_small_en",
        "files": "config.json, pytorch_model.bin, tf_model.h5, vocab.txt (float32)",
        "source": "ConvBERT authors (YituTech); transformers ConvBertModel layout",
        "bytes_per_param": 4,
    },
    "YituTech/conv-bert-medium-small": {
        "backbone": "ConvBertBackbone", "preset": "conv_bert_medium_small_en",
        "files": "config.json, pytorch_model.bin, tf_model.h5, vocab.txt (float32)",
        "source": "ConvBERT authors (YituTech); transformers ConvBertModel layout",
        "bytes_per_param": 4,
    },
    "YituTech/conv-bert-base": {
        "backbone": "ConvBertBackbone", "preset": "conv_bert_base_en",
        "files": "config.json, pytorch_model.bin, tf_model.h5, vocab.txt (float32)",
        "source": "ConvBERT authors (YituTech); transformers ConvBertModel layout",
        "bytes_per_param": 4,
    },
    "Graphcore/groupbert-base-uncased": {
        "backbone": "GroupBertBackbone", "preset": "group_bert_base_en",
        "files": "config.json, pytorch_model.bin (float16; + MLM and NSP heads)",
        "source": "Graphcore; optimum-graphcore GroupBertForPreTraining (PR #139)",
        "bytes_per_param": 2,
    },
}
