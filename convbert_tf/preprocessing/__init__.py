"""tf.text preprocessing for ConvBERT: tokenizer, packers, vocabulary tools."""

from convbert_tf.preprocessing.convbert_tokenizer import ConvBertTokenizer
from convbert_tf.preprocessing.groupbert_preprocessing import (
    GroupBertMaskedLMPreprocessor,
    GroupBertQuestionAnswererPreprocessor,
    GroupBertTextClassifierPreprocessor,
    GroupBertTokenClassifierPreprocessor,
    GroupBertTokenizer,
)
from convbert_tf.preprocessing.masked_lm_preprocessor import (
    ConvBertMaskedLMPreprocessor,
    apply_mask_generator,
    make_mask_generator,
)
from convbert_tf.preprocessing.question_answerer_preprocessor import (
    ConvBertQuestionAnswererPreprocessor,
)
from convbert_tf.preprocessing.segment_packing import tflite_friendly_pack, truncated_lengths
from convbert_tf.preprocessing.text_classifier_preprocessor import (
    ConvBertTextClassifierPreprocessor,
)
from convbert_tf.preprocessing.token_classifier_preprocessor import (
    ConvBertTokenClassifierPreprocessor,
)
from convbert_tf.preprocessing.vocabulary import (
    SPECIAL_TOKENS,
    build_vocabulary,
    default_vocabulary_path,
    load_vocabulary,
)

__all__ = [
    "ConvBertMaskedLMPreprocessor",
    "ConvBertQuestionAnswererPreprocessor",
    "ConvBertTextClassifierPreprocessor",
    "ConvBertTokenClassifierPreprocessor",
    "ConvBertTokenizer",
    "GroupBertMaskedLMPreprocessor",
    "GroupBertQuestionAnswererPreprocessor",
    "GroupBertTextClassifierPreprocessor",
    "GroupBertTokenClassifierPreprocessor",
    "GroupBertTokenizer",
    "apply_mask_generator",
    "SPECIAL_TOKENS",
    "build_vocabulary",
    "default_vocabulary_path",
    "load_vocabulary",
    "make_mask_generator",
    "tflite_friendly_pack",
    "truncated_lengths",
]
