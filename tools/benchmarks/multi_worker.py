"""Multi-worker cost: generator steps/s of a small toy GAN trained by 1 and by 2 MultiWorkerMirroredStrategy workers
on loopback (tools/launch_local.py) with the same global batch, against the same model without a strategy, and the
share of a step spent in the gradient all-reduce (all-reduces of the critic's and the generator's gradient shapes,
n_critic + 1 per generator step, timed alone) and in the trainer's per-step stop agreement (one all-reduce of 3
flags). Each worker process is a separate TensorFlow runtime, so 2 workers on a 2-core machine share its cores.
"""
import io
import json
import os
import pathlib
import textwrap

import launch_local

WORKER = textwrap.dedent("""
    import json, sys, time
    from bwgan_tf.train import cluster
    worker = cluster.Worker(collective_timeout=300)
    import tensorflow as tf
    from bwgan_tf import data, train
    steps = int(sys.argv[1])
    config = train.make_config("toy_8gaussians", width=64, batch_size=64, n_critic=2, steps=steps, xla=False)
    rows = config.batch_size * config.n_critic

    def load(shard=(0, 1)):
        return data.load(config.dataset, batch_size=rows, shard=shard)

    def steps_per_s(model, dataset):
        model.fit(dataset, steps_per_epoch=20, epochs=1, verbose=0)  # trace
        start = time.perf_counter()
        model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
        tf.nest.map_structure(lambda v: v.numpy(), model.generator.weights)
        return steps / (time.perf_counter() - start)

    result = {}
    if worker.count == 1:
        result["no_strategy_steps_per_s"] = steps_per_s(train.build_model(config), load())
    with worker.strategy.scope():
        model = train.build_model(config)
    result["steps_per_s"] = steps_per_s(model, worker.distribute(load, config.batch_size))
    critic = [tf.zeros_like(v) for v in model.critic.trainable_variables]
    generator = [tf.zeros_like(v) for v in model.generator.trainable_variables]

    @tf.function
    def all_reduces():
        def reduce():
            context = tf.distribute.get_replica_context()
            out = [context.all_reduce("sum", critic) for _ in range(config.n_critic)]
            return out + [context.all_reduce("sum", generator)]
        return worker.strategy.run(reduce)

    def seconds_per_call(fn, calls):
        fn()
        start = time.perf_counter()
        for _ in range(calls):
            tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, fn())
        return (time.perf_counter() - start) / calls

    result["all_reduce_s_per_step"] = seconds_per_call(all_reduces, steps)
    result["agreement_s_per_step"] = seconds_per_call(lambda: worker.agree(None, False), steps)
    result["gradient_values"] = sum(int(v.shape.num_elements()) for v in critic) * config.n_critic + sum(
        int(v.shape.num_elements()) for v in generator)
    if worker.is_chief:
        print("RESULT " + json.dumps(result), flush=True)
""")


def _cluster(workers: int, steps: int) -> dict:
    root = pathlib.Path(__file__).resolve().parents[2]
    out = io.StringIO()
    code = launch_local.launch(["-c", WORKER, str(steps)], workers, env={"PYTHONPATH": str(root)}, out=out)
    lines = out.getvalue().splitlines()
    if code:
        raise RuntimeError(f"{workers} workers failed (exit {code}):\n" + "\n".join(lines[-20:]))
    prefix = "[worker 0] RESULT "
    return json.loads(next(line for line in lines if line.startswith(prefix))[len(prefix):])


def run(quick: bool = False) -> dict:
    steps = 100 if quick else 1000
    one, two = _cluster(1, steps), _cluster(2, steps)
    result = {"steps": steps, "no_strategy_steps_per_s": one["no_strategy_steps_per_s"],
              "gradient_values_all_reduced_per_step": two["gradient_values"], "cpus": os.cpu_count()}
    for name, measured in (("1_worker", one), ("2_workers", two)):
        step_s = 1 / measured["steps_per_s"]
        result.update({f"{name}_steps_per_s": measured["steps_per_s"],
                       f"{name}_all_reduce_ms_per_step": 1000 * measured["all_reduce_s_per_step"],
                       f"{name}_all_reduce_share": measured["all_reduce_s_per_step"] / step_s,
                       f"{name}_stop_agreement_ms_per_step": 1000 * measured["agreement_s_per_step"],
                       f"{name}_stop_agreement_share": measured["agreement_s_per_step"] / step_s})
    result["2_workers_over_1_worker"] = two["steps_per_s"] / one["steps_per_s"]
    return result

