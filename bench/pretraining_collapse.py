"""What limited short pretraining runs: the discriminator's representation collapse under Adam.

Pretrains the benchmark's 128-wide, 2-layer discriminators (ConvBERT and the BERT baseline of
`bench/pretraining_efficiency.py`, with the same generators) with `pretrain()` for `--steps`
steps under several optimizer settings, and after every `--every` steps records the *spread* of the discriminator's outputs: the standard
deviation across 32 fixed corpus sentences of `sequence_output` at token positions 1-3,
averaged over channels. A freshly initialised model has a spread of about 0.5; a collapsed one
maps every sentence to (nearly) the same vectors, and nothing fine-tunes from it.

Settings (`--settings`, comma-separated `optimizer:learning_rate[:replace]`):
* `adamw:2e-3` — the previous small-budget recipe;
* `adamw:2e-3:uniform` — the same, but every masked position gets a uniformly random token
  instead of a generator sample (the easiest possible RTD task), to tell an optimizer effect
  from a task effect;
* `adamw:5e-4`, `lamb:5e-3`, `lamb:1e-2` — lower Adam rates and LAMB (the current recipe);
* a trailing `:init<std>` (e.g. `adamw:2e-3:uniform:init0.05`) builds the discriminator with
  `initializer_range=<std>` instead of its default (ConvBERT / GroupBERT: 0.02; the BERT
  baseline's keras-hub layers: Glorot), to test the initial weight scale;
* a trailing `:temp<T>` (e.g. `lamb:1e-2:temp3`) draws the generator's samples from
  `softmax(logits / T)`: flatter than the generator's own distribution, so that more
  replacements are rare words, a cue a single token carries.

Writes `bench/results/pretraining_collapse.json` (per model and setting: per-block spread, RTD loss /
recall / precision, generator accuracy) with the CPU description.

    python bench/pretraining_collapse.py                  # ~15 min on 2 cores
    python bench/pretraining_collapse.py --quick          # smoke test
    python bench/pretraining_collapse.py --settings lamb:1e-2 --merge   # rerun one setting
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

DEFAULT_SETTINGS = "adamw:2e-3,adamw:2e-3:uniform,adamw:5e-4,lamb:5e-3,lamb:1e-2"


def parse_setting(text):
    """`optimizer:learning_rate[:uniform][:init<std>][:temp<T>]` -> a setting dict (the
    module doc)."""
    parts = text.split(":")
    extra = parts[2:]
    uniform = "uniform" in extra
    numbers = {"init": None, "temp": None}
    ok = len(parts) >= 2 and parts[0] in ("adamw", "lamb") and extra.count("uniform") <= 1
    try:
        learning_rate = float(parts[1])
        for token in extra:
            if token == "uniform":
                continue
            prefix = token[:4]
            if prefix not in numbers or numbers[prefix] is not None:
                ok = False
                break
            numbers[prefix] = float(token[4:])
            ok = ok and numbers[prefix] > 0
    except (IndexError, ValueError):
        ok = False
    if not ok:
        raise argparse.ArgumentTypeError(
            f"--settings: expected optimizer:learning_rate[:uniform][:init<std>][:temp<T>] "
            f"with optimizer adamw or lamb (e.g. adamw:2e-3:uniform:init0.05), got {text!r}")
    # The key in the results file: no ":" (the docs' result markers read it in a key path).
    return {"name": text.replace(":", "_"), "optimizer": parts[0],
            "learning_rate": learning_rate, "uniform_replacements": uniform,
            "initializer_range": numbers["init"], "temperature": numbers["temp"]}


def run_setting(kind, setting, corpus, probe_lines, tokenizer, args, workdir):
    import keras
    import numpy as np
    from keras import ops
    from pretraining_efficiency import make_backbone, make_generator

    from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor
    from convbert_tf.tasks.electra_pretrainer import ConvBertElectraPretrainer
    from convbert_tf.training.pretraining import pretrain

    keras.utils.set_random_seed(0)
    disc = make_backbone(kind, tokenizer.vocabulary_size(), args.sequence_length,
                         initializer_range=setting["initializer_range"])
    generator = make_generator(kind, disc, args.sequence_length)
    probe = ConvBertTextClassifierPreprocessor(tokenizer, args.sequence_length)(probe_lines)

    def spread():
        out = ops.convert_to_numpy(disc(probe, training=False)["sequence_output"])
        return round(float(out[:, 1:4].std(axis=0).mean()), 5)

    records = [{"step": 0, "spread": spread()}]

    class Spread(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            records.append({"step": (epoch + 1) * args.every, "spread": spread(),
                            **{k: round(float(v), 5) for k, v in (logs or {}).items()
                               if k != "loss"}})
            print(f"  [{kind} {setting['name']}] step {records[-1]['step']}: spread "
                  f"{records[-1]['spread']}, recall "
                  f"{records[-1].get('discriminator_recall')}", flush=True)

    original = ConvBertElectraPretrainer.sample_replacements
    if setting["uniform_replacements"]:
        def uniform(self, mlm_logits):  # the easiest RTD task: random tokens from [999, V)
            return keras.random.randint(ops.shape(mlm_logits)[:-1], 999,
                                        tokenizer.vocabulary_size(), seed=self.seed_generator)
        ConvBertElectraPretrainer.sample_replacements = uniform
    try:
        pretrain(disc, corpus,
                 os.path.join(workdir, kind, setting["name"]), tokenizer,
                 generator=generator, steps=args.steps, checkpoint_every=args.every,
                 sequence_length=args.sequence_length, seed=0, verbose=0,
                 optimizer=setting["optimizer"], learning_rate=setting["learning_rate"],
                 batch_size=args.batch_size, jit_compile=not args.quick,
                 temperature=setting["temperature"] or 1.0,
                 callbacks=[Spread()])
    finally:
        ConvBertElectraPretrainer.sample_replacements = original
    return {**setting, "history": records,
            "min_spread": float(np.min([r["spread"] for r in records]))}


def start_results(args, machine_info):
    """A new results dict, or with `--merge` the one in `--output` (its other rows kept)."""
    if args.merge and os.path.exists(args.output):
        with open(args.output) as f:
            results = json.load(f)
        results["merged"] = results.get("merged", []) + [
            {**vars(args), "machine": machine_info}]
        return results
    return {"machine": machine_info, "args": vars(args), "models": {}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="convbert,bert",
                        help="discriminators of bench/pretraining_efficiency.py")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="smoke test: 4 eager steps")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other (model, setting) rows of --output and replace "
                             "only those run now; each row records its own commit and CPU")
    parser.add_argument("--output", default=os.path.join(HERE, "results",
                                                         "pretraining_collapse.json"))
    args = parser.parse_args()
    settings = [parse_setting(s) for s in args.settings.split(",")]
    if args.quick:
        args.steps, args.every, args.batch_size, args.sequence_length = 4, 2, 8, 32
    if args.steps % args.every:
        parser.error("--steps must be a multiple of --every")

    from pretraining_efficiency import build_corpus, commit_stamp, machine

    from convbert_tf.preprocessing import ConvBertTokenizer

    tokenizer = ConvBertTokenizer()
    started = time.time()
    machine_info = machine()
    results = start_results(args, machine_info)
    stamp = {"commit": commit_stamp(), "cpu": machine_info["cpu"]}
    with tempfile.TemporaryDirectory() as workdir:
        corpus = os.path.join(workdir, "corpus.txt")
        results["corpus"] = build_corpus(corpus)
        with open(corpus, encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.strip()]
        probe_lines = lines[::max(1, len(lines) // 32)][:32]
        for kind in args.models.split(","):
            results["models"].setdefault(kind, {})
            for setting in settings:
                results["models"][kind][setting["name"]] = {
                    **run_setting(kind, setting, corpus, probe_lines, tokenizer, args, workdir),
                    **stamp}
    results["wall_seconds"] = round(time.time() - started, 1)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(results, f, indent=1)
    for kind, name, run in ((k, n, r) for k, runs in results["models"].items()
                            for n, r in runs.items()):
        last = run["history"][-1]
        print(f"{kind:9s} {name:22s} spread {run['history'][0]['spread']:.3f} -> min "
              f"{run['min_spread']:.4f} -> {last['spread']:.3f}; recall "
              f"{last.get('discriminator_recall')}")


if __name__ == "__main__":
    main()
