"""`ConvBertElectraPretrainer`: ELECTRA replaced-token detection, as ConvBERT was pretrained.

The discriminator is a `ConvBertBackbone` or a `GroupBertBackbone` (GroupBERT pretrains the same
way); the generator is a smaller backbone of the same class.

A small generator (an MLM) fills the masked positions with samples from its softmax; the
discriminator (the model that is later fine-tuned) labels every real token as original or
replaced. Loss = `mlm_weight * MLM + rtd_weight * RTD` (1 and 50, as released). The word,
position and token-type tables and their LayerNorm are ONE `BertEmbedding` layer shared by both
backbones; the generator keeps its own E -> D projection.
"""

import keras
import keras_hub
from keras import ops

from convbert_tf.layers.initializers import backbone_initializer
from convbert_tf.models import ConvBertBackbone, GroupBertBackbone
from convbert_tf.optimizers.lamb import Lamb
from convbert_tf.optimizers.schedules import WarmupLinearDecay
from convbert_tf.preprocessing.masked_lm_preprocessor import ConvBertMaskedLMPreprocessor
from convbert_tf.tasks.masked_lm import masked_lm_head

_BACKBONE_BASE_KEYS = ("name", "trainable", "dtype")


_PRETRAINABLE_BACKBONES = (ConvBertBackbone, GroupBertBackbone)


def generator_config(discriminator, fraction="auto", min_hidden_dim=64):
    """Backbone arguments of the ELECTRA generator of `discriminator` (same backbone class).

    Same depth, kernel and groups; head count (and so hidden size) times `fraction` (1/4, or
    1/3 for base-sized models with `hidden_dim >= 768`), intermediate size 4x the generator's
    hidden size, and the discriminator's embedding width (the tables are shared). The head size
    is kept, and ConvBERT's `head_ratio` shrinks when fewer heads remain than it (N = 1 then).

    The generator keeps at least `min_hidden_dim` channels (never more than the
    discriminator; the released sizes are unaffected): measured on a 128-wide, 4-head
    discriminator, the 1/4 generator (one 32-wide head) never got past unigram predictions in
    400 steps, even with no RTD loss, while a 64-wide one did (docs/pretraining.md, "What
    limited learning").

    Args:
        discriminator: a `ConvBertBackbone` or `GroupBertBackbone`.
        fraction: `"auto"` or a float in (0, 1].
        min_hidden_dim: the narrowest generator.

    Example:
    >>> generator_config(ConvBertBackbone.from_preset("conv_bert_small_en",
    ...                                               load_weights=False))["hidden_dim"]
    64
    """
    if fraction == "auto":
        fraction = 1 / 3 if discriminator.hidden_dim >= 768 else 1 / 4
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) \
            or not 0 < fraction <= 1:
        raise ValueError(f"`generator_fraction` must be \"auto\" or a number in (0, 1], got "
                         f"{fraction!r}.")
    head_dim = discriminator.hidden_dim // discriminator.num_heads
    num_heads = max(1, int(round(discriminator.num_heads * fraction)),
                    -(-min_hidden_dim // head_dim))
    num_heads = min(num_heads, discriminator.num_heads)
    hidden_dim = num_heads * head_dim
    config = {k: v for k, v in discriminator.get_config().items()
              if k not in _BACKBONE_BASE_KEYS}
    config.update(num_heads=num_heads, hidden_dim=hidden_dim, intermediate_dim=4 * hidden_dim,
                  embedding_dim=discriminator.embedding_dim)
    if "head_ratio" in config:
        # ConvBERT's rule for too few heads: one self-attention and one conv head (N = 1).
        ratio = discriminator.head_ratio
        config["head_ratio"] = ratio if num_heads % ratio == 0 else 1
    return config


def original_token_ids(token_ids, mask_positions, mask_ids):
    """The unmasked input: `token_ids` with `mask_ids` written back at `mask_positions`.

    Position 0 always holds `[CLS]`, which is never selected, so `mask_positions == 0` marks
    the padding of `mask_positions` (as keras-hub's `MaskedLMMaskGenerator` pads them).
    """
    return _scatter(token_ids, mask_positions, mask_ids)


def replaced_token_labels(original_ids, discriminator_ids, padding_mask):
    """ELECTRA's RTD labels: 1 where the discriminator's input differs from the original.

    A generator sample equal to the original token is labelled 0 (it is not "replaced").
    Padding is 0.
    """
    replaced = ops.not_equal(discriminator_ids, original_ids)
    return ops.cast(ops.logical_and(replaced, ops.cast(padding_mask, "bool")), "int32")


def _scatter(token_ids, mask_positions, values):
    """Writes `values[b, m]` at `token_ids[b, mask_positions[b, m]]` for positions > 0."""
    seq_len = ops.shape(token_ids)[1]
    valid = ops.cast(ops.greater(mask_positions, 0), "int32")
    # [B, M, T] one-hot of the real positions: a few KB, and plain XLA ops (no scatter).
    onehot = ops.one_hot(mask_positions, seq_len, dtype="int32") * valid[:, :, None]
    is_masked = ops.greater(ops.sum(onehot, axis=1), 0)
    scattered = ops.sum(onehot * ops.cast(values, "int32")[:, :, None], axis=1)
    return ops.where(is_masked, scattered, ops.cast(token_ids, "int32"))


def sample_categorical(logits, seed, block_size=256):
    """One sample per row of `logits [N, V]` from `softmax(logits)`, by inverse CDF.

    Two uniforms per row instead of V: the first picks a block of `block_size` entries by the
    cumulative block masses, the second an entry inside it. Two short cumulative sums (V / 256
    blocks, then 256 entries) keep float32 rounding at ~1e-5 of the total mass, where one
    30,522-long cumsum would drift by up to ~2e-3.

    Args:
        logits: float `[N, V]`.
        seed: a `keras.random.SeedGenerator` (or an int seed).
        block_size: entries per block.

    Returns:
        int32 `[N]` indices in `[0, V)`.

    Example:
    >>> sample_categorical(np.log([[0.2, 0.8]]), keras.random.SeedGenerator(0)).shape
    (1,)
    """
    logits = ops.cast(logits, "float32")
    vocabulary = ops.shape(logits)[-1]
    num_blocks = -(-vocabulary // block_size)
    padded = ops.pad(logits - ops.max(logits, axis=-1, keepdims=True),
                     ((0, 0), (0, num_blocks * block_size - vocabulary)),
                     constant_values=-float("inf"))
    weights = ops.reshape(ops.exp(padded), (-1, num_blocks, block_size))
    uniforms = keras.random.uniform((ops.shape(logits)[0], 2), seed=seed)
    block_cdf = ops.cumsum(ops.sum(weights, axis=-1), axis=-1)              # [N, blocks]
    target = uniforms[:, :1] * block_cdf[:, -1:]
    block = ops.minimum(ops.sum(ops.cast(block_cdf <= target, "int32"), axis=-1),
                        num_blocks - 1)
    inner = ops.take_along_axis(weights, block[:, None, None], axis=1)[:, 0]  # [N, block]
    inner_cdf = ops.cumsum(inner, axis=-1)
    target = uniforms[:, 1:] * inner_cdf[:, -1:]
    # `<=`: an entry of zero mass (padding, or exp underflow) is never chosen.
    offset = ops.sum(ops.cast(inner_cdf <= target, "int32"), axis=-1)
    index = block * block_size + ops.minimum(offset, block_size - 1)
    return ops.cast(ops.minimum(index, vocabulary - 1), "int32")


def _sigmoid_cross_entropy(labels, logits):
    # Numerically stable log(1 + exp(-|x|)) form, elementwise.
    return ops.relu(logits) - logits * labels + ops.log1p(ops.exp(-ops.abs(logits)))


def pretraining_optimizer(learning_rate=5e-4, num_train_steps=None, warmup_steps=10_000,
                          weight_decay=0.01, optimizer="adamw"):
    """The pretraining optimizer: linear warmup, then linear decay to 0 at `num_train_steps`
    (None: constant rate); no weight decay on LayerNorm parameters and biases; epsilon 1e-6.

    `optimizer="adamw"` is the released ConvBERT / ELECTRA optimizer. `"lamb"` (GroupBERT's)
    scales each variable's Adam step by `||w|| / ||step||`, so a layer moves by about
    `learning_rate` of its own norm per step. Short runs at a high rate need that: Adam's
    first steps are close to `learning_rate * sign(gradient)` for every entry, a rank-1
    update as large as the whole 0.02-scale initialisation after ~25 steps at 2e-3, and the
    post-LN ConvBERT discriminator then maps every token to nearly the same vector, even when
    every replacement is a uniformly random token. `bench/pretraining_collapse.py` measures
    it; docs/pretraining.md has the numbers, including the limit: keras-hub's BERT encoder
    collapses under LAMB at 1e-2 as well. LayerNorm parameters and biases get the plain Adam
    step (`convbert_tf.optimizers.Lamb`'s `exclude_from_layer_adaptation`, as in the reference
    LAMB): under `keras.optimizers.Lamb` the zero-initialised ones never leave zero.

    Args:
        learning_rate: peak rate.
        num_train_steps: total steps of the schedule, or None for a constant rate.
        warmup_steps: linear warmup steps (capped at `num_train_steps`).
        weight_decay: decoupled weight decay.
        optimizer: `"adamw"` or `"lamb"`.

    Example:
    >>> pretraining_optimizer(5e-3, num_train_steps=300, warmup_steps=30, optimizer="lamb")
    """
    if optimizer not in ("adamw", "lamb"):
        raise ValueError(f"`optimizer` must be \"adamw\" or \"lamb\", got {optimizer!r}.")
    schedule = learning_rate
    if num_train_steps is not None:
        schedule = WarmupLinearDecay(learning_rate, total_steps=num_train_steps,
                                     warmup_steps=min(warmup_steps, num_train_steps))
    cls = keras.optimizers.AdamW if optimizer == "adamw" else Lamb
    result = cls(learning_rate=schedule, weight_decay=weight_decay, epsilon=1e-6)
    result.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return result


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertElectraPretrainer(keras_hub.models.Task):
    """ELECTRA replaced-token-detection pretraining of a `ConvBertBackbone`.

    `backbone` is the discriminator (also `pretrainer.discriminator`): after pretraining it is
    what `ConvBertTextClassifier` fine-tunes or `save_to_preset` writes. The generator is a
    `ConvBertBackbone` sharing the discriminator's `BertEmbedding` instance, with the tied MLM
    head `generator_predictions`; the discriminator head is Dense(D, gelu) -> Dense(1).

    Inputs are the `ConvBertMaskedLMPreprocessor` batches: `x = {token_ids (masked),
    segment_ids, padding_mask, mask_positions}`, `y = mask_ids` (the original ids),
    `sample_weight = mask_weights`. One step: generator logits at the masked positions;
    replacements sampled from their softmax (`keras.random.categorical`, seeded, no gradient);
    the discriminator reads the input with every masked position replaced by its sample;
    MLM cross-entropy averaged over real predictions, sigmoid cross-entropy averaged over real
    (non-padding) tokens. Metrics: `mlm_loss`, `rtd_loss`, `generator_accuracy`,
    `discriminator_accuracy`, `discriminator_precision` / `discriminator_recall` (of the
    "replaced" class). Runs under XLA (`jit_compile=True` is the compile default).

    Args:
        backbone: the discriminator, a `ConvBertBackbone` or `GroupBertBackbone`.
        generator: None to build one with `generator_config(backbone, generator_fraction)`,
            or a backbone built with `embeddings=backbone.embeddings`.
        preprocessor: a `ConvBertMaskedLMPreprocessor` (raw strings in `fit`) or None.
        generator_fraction: `"auto"` (1/4; 1/3 for base) or a float.
        mlm_weight: generator loss weight (1.0).
        rtd_weight: discriminator loss weight (50.0).
        temperature: sampling temperature (1.0).
        seed: int seed of the sampling `SeedGenerator`.

    Example:
    >>> disc = ConvBertBackbone.from_preset("conv_bert_small_en", load_weights=False)
    >>> pretrainer = ConvBertElectraPretrainer(disc, preprocessor=ConvBertMaskedLMPreprocessor())
    >>> pretrainer.fit(["some text", "more text"], batch_size=2)
    >>> pretrainer.discriminator.save_to_preset("convbert_pretrained")
    """

    backbone_cls = ConvBertBackbone
    preprocessor_cls = ConvBertMaskedLMPreprocessor

    def __init__(self, backbone, generator=None, preprocessor=None, generator_fraction="auto",
                 mlm_weight=1.0, rtd_weight=50.0, temperature=1.0, seed=None, **kwargs):
        if generator is None and not isinstance(backbone, _PRETRAINABLE_BACKBONES):
            raise TypeError("`backbone` (the discriminator) must be a ConvBertBackbone or a "
                            f"GroupBertBackbone, got {type(backbone).__name__}; for another "
                            "backbone with a shared `embeddings` layer, pass its `generator`.")
        if temperature <= 0:
            raise ValueError(f"`temperature` must be > 0, got {temperature}.")
        if generator is None:
            generator = type(backbone)(
                **generator_config(backbone, generator_fraction), embeddings=backbone.embeddings,
                dtype=backbone.dtype_policy, name="generator",
            )
        elif getattr(generator, "embeddings", None) is not getattr(backbone, "embeddings", 0):
            raise ValueError("`generator` must share the discriminator's embeddings: build it "
                             "with `ConvBertBackbone(..., embeddings=backbone.embeddings)`.")
        # === Layers ===
        self.backbone = backbone
        self.generator = generator
        self.preprocessor = preprocessor
        self.generator_head = masked_lm_head(generator, name="generator_predictions")
        self.discriminator_dense = keras.layers.Dense(
            backbone.hidden_dim, activation="gelu",
            kernel_initializer=backbone_initializer(backbone), dtype=backbone.dtype_policy,
            name="discriminator_dense",
        )
        self.discriminator_logits = keras.layers.Dense(
            1, kernel_initializer=backbone_initializer(backbone), dtype=backbone.dtype_policy,
            name="discriminator_logits",
        )
        self.seed_generator = keras.random.SeedGenerator(seed, name="sampling_seed")
        # === Metrics (reset each epoch by Keras; sublayer models' metrics are not listed) ===
        self.mlm_loss_tracker = keras.metrics.Mean(name="mlm_loss")
        self.rtd_loss_tracker = keras.metrics.Mean(name="rtd_loss")
        self.generator_accuracy = keras.metrics.SparseCategoricalAccuracy(
            name="generator_accuracy")
        self.discriminator_accuracy = keras.metrics.BinaryAccuracy(name="discriminator_accuracy")
        self.discriminator_precision = keras.metrics.Precision(name="discriminator_precision")
        self.discriminator_recall = keras.metrics.Recall(name="discriminator_recall")
        super().__init__(**kwargs)
        # === Build the heads now, so that every variable exists before XLA tracing ===
        self.generator_head.build((None, None, generator.hidden_dim), (None, None))
        self.discriminator_dense.build((None, None, backbone.hidden_dim))
        self.discriminator_logits.build((None, None, backbone.hidden_dim))
        self.built = True
        # === Config ===
        self.generator_fraction = generator_fraction
        self.mlm_weight = float(mlm_weight)
        self.rtd_weight = float(rtd_weight)
        self.temperature = float(temperature)
        self.seed = seed

    @property
    def discriminator(self):
        """The discriminator `ConvBertBackbone` (the model to fine-tune)."""
        return self.backbone

    def sample_replacements(self, mlm_logits):
        """Draws one token per masked position from `softmax(logits / temperature)`.

        Sampling is `sample_categorical` (two uniforms per position), not
        `keras.random.categorical`: on TensorFlow's XLA CPU backend the latter draws one
        random number per vocabulary entry through a slow generator (840 ms for 640 x 30,522
        logits against 112 ms here, measured under load).
        """
        logits = ops.stop_gradient(ops.cast(mlm_logits, "float32")) / self.temperature
        batch_shape = ops.shape(mlm_logits)[:-1]
        flat = ops.reshape(logits, (-1, ops.shape(logits)[-1]))
        samples = sample_categorical(flat, self.seed_generator)
        # Integer samples carry no gradient anyway; say so explicitly.
        return ops.stop_gradient(ops.reshape(samples, batch_shape))

    def call(self, inputs, training=False):
        features = {k: inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")}
        generated = self.generator(features, training=training)["sequence_output"]
        mlm_logits = ops.cast(
            self.generator_head(generated, inputs["mask_positions"]), "float32")
        sampled = self.sample_replacements(mlm_logits)
        discriminator_ids = _scatter(inputs["token_ids"], inputs["mask_positions"], sampled)
        sequence = self.backbone(
            {**features, "token_ids": discriminator_ids}, training=training
        )["sequence_output"]
        rtd_logits = self.discriminator_logits(self.discriminator_dense(sequence))
        return {
            "mlm_logits": mlm_logits,
            "sampled_token_ids": sampled,
            "discriminator_token_ids": discriminator_ids,
            "rtd_logits": ops.cast(ops.squeeze(rtd_logits, -1), "float32"),
        }

    def _loss_terms(self, x, y, y_pred, sample_weight):
        mask_weights = (ops.cast(ops.greater(x["mask_positions"], 0), "float32")
                        if sample_weight is None else ops.cast(sample_weight, "float32"))
        token_weights = ops.cast(x["padding_mask"], "float32")
        mlm = keras.losses.sparse_categorical_crossentropy(y, y_pred["mlm_logits"],
                                                           from_logits=True)
        mlm_loss = ops.sum(mlm * mask_weights) / ops.maximum(ops.sum(mask_weights), 1.0)
        labels = replaced_token_labels(
            original_token_ids(x["token_ids"], x["mask_positions"], y),
            y_pred["discriminator_token_ids"], x["padding_mask"],
        )
        rtd = _sigmoid_cross_entropy(ops.cast(labels, "float32"), y_pred["rtd_logits"])
        rtd_loss = ops.sum(rtd * token_weights) / ops.maximum(ops.sum(token_weights), 1.0)
        return mlm_loss, rtd_loss, labels, mask_weights, token_weights

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y is None:
            raise ValueError("ConvBertElectraPretrainer needs `y` = the original ids at "
                             "`mask_positions` (ConvBertMaskedLMPreprocessor provides them).")
        mlm_loss, rtd_loss, *_ = self._loss_terms(x, y, y_pred, sample_weight)
        return self.mlm_weight * mlm_loss + self.rtd_weight * rtd_loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        mlm_loss, rtd_loss, labels, mask_weights, token_weights = self._loss_terms(
            x, y, y_pred, sample_weight)
        self.mlm_loss_tracker.update_state(mlm_loss)
        self.rtd_loss_tracker.update_state(rtd_loss)
        self.generator_accuracy.update_state(y, y_pred["mlm_logits"], sample_weight=mask_weights)
        probabilities = ops.sigmoid(y_pred["rtd_logits"])
        for metric in (self.discriminator_accuracy, self.discriminator_precision,
                       self.discriminator_recall):
            metric.update_state(labels, probabilities, sample_weight=token_weights)
        return self.get_metrics_result()

    def compile(self, optimizer="auto", *, jit_compile=True, **kwargs):
        """`optimizer="auto"`: `pretraining_optimizer(5e-4)` (constant rate; pass one with
        `num_train_steps` for the released warmup + decay). XLA on by default."""
        if optimizer == "auto":
            optimizer = pretraining_optimizer(5e-4)
        kwargs.pop("loss", None)  # the loss is `compute_loss`
        super().compile(optimizer=optimizer, jit_compile=jit_compile, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({
            # Plain arguments (no embeddings): from_config rebuilds the sharing.
            "generator": {k: v for k, v in self.generator.get_config().items()
                          if k not in ("trainable", "dtype")},
            "generator_fraction": self.generator_fraction,
            "mlm_weight": self.mlm_weight,
            "rtd_weight": self.rtd_weight,
            "temperature": self.temperature,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("backbone"), dict):
            config["backbone"] = keras.layers.deserialize(config["backbone"])
        if isinstance(config.get("preprocessor"), dict):
            config["preprocessor"] = keras.layers.deserialize(config["preprocessor"])
        generator = config.pop("generator", None)
        if isinstance(generator, dict):
            backbone = config["backbone"]
            config["generator"] = type(backbone)(
                **generator, embeddings=backbone.embeddings, dtype=backbone.dtype_policy)
        return cls(**config)
