import json, sys
from course_utils.lessons import lesson04
from course_utils.instructor import bench
lr = float(sys.argv[1])
for seed in range(int(sys.argv[2]), int(sys.argv[3])):
    s = lesson04.DQNSettings(learning_rate=lr, max_steps=30_000)
    log = bench._quiet(lesson04.train_dqn, seed, s, **bench._dqn_pieces("none"))
    print(json.dumps({"lr": lr, "seed": seed, "solved": log.solved, "at": log.solved_at,
                      "best": max(m for _, m in log.evals)}), flush=True)
