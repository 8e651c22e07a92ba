"""Run train_dqn for (settings, variants, seeds); append one JSON line per seed to /tmp/s17/results.jsonl.

usage: run.py --tag NAME --variants hard,"squared error" --seeds 0-9 [--clipnorm X] [key=value ...]
"""
import argparse, json, os, sys, time, ast, dataclasses

OUT = "/tmp/s17/results.jsonl"
ap = argparse.ArgumentParser()
ap.add_argument("--tag", required=True)
ap.add_argument("--variants", default="hard,squared error")
ap.add_argument("--seeds", default="0-9")
ap.add_argument("--clipnorm", type=float, default=None)
ap.add_argument("kv", nargs="*")
a = ap.parse_args()

import keras
from course_utils.lessons import lesson04
from course_utils.instructor import bench

if a.clipnorm is not None:
    _Adam = keras.optimizers.Adam
    def Adam(*args, clipnorm=None, **kw):
        return _Adam(*args, clipnorm=a.clipnorm, **kw)
    keras.optimizers.Adam = Adam

over = {}
for kv in a.kv:
    k, v = kv.split("=", 1)
    assert k in {"learning_starts", "target_copy_every", "learning_rate", "train_every", "epsilon_steps",
                 "tau", "batch_size", "hidden_units", "n_step"}, k
    over[k] = ast.literal_eval(v)
settings = lesson04.DQNSettings(**over)
sd = dataclasses.asdict(settings)
sd["clipnorm"] = a.clipnorm if a.clipnorm is not None else 10.0

lo, _, hi = a.seeds.partition("-")
seeds = range(int(lo), int(hi or lo) + 1)
done = set()
if os.path.exists(OUT):
    for line in open(OUT):
        r = json.loads(line)
        if r["tag"] == a.tag:
            done.add((r["variant"], r["seed"]))

for variant in a.variants.split(","):
    for seed in seeds:
        if (variant, seed) in done:
            continue
        t = time.perf_counter()
        log = bench._quiet(lesson04.train_dqn, seed, settings, **bench._dqn_pieces(variant))
        rec = dict(tag=a.tag, variant=variant, settings=sd, seed=seed, solved=bool(log.solved),
                   solved_at=log.solved_at, env_steps=log.env_steps, seconds=log.seconds,
                   solved_seconds=log.solved_seconds, wall=time.perf_counter() - t)
        with open(OUT, "a") as f:
            f.write(json.dumps(rec, default=list) + "\n")
        print(a.tag, variant, seed, log.solved, log.solved_at, round(log.seconds, 1), flush=True)
