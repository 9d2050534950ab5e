"""Train-step benchmark: the paper's CIFAR ResNet critic and generator steps, XLA on and off, the cost of each Banach
norm relative to l2, the FLOPs of a critic step (counted from the layers; TF profiler as a cross-check) and the
utilisation of the measured float32 matmul peak. Adler & Lunz 2018 claim the Banach norms come "at no performance
loss"."""
import statistics
import time

import tensorflow as tf

from bwgan_tf import compat, gan, lipschitz, models

SPACES = ("l2", "lp:p=10", "sobolev:s=-1.5,p=2", "sobolev:s=2,p=2")


def _model(space, width, batch_norm=True):
    generator = models.build_generator("resnet", width=width, batch_norm=batch_norm)
    critic = models.build_critic("resnet", width=width)
    model = gan.WassersteinGAN(generator, critic, latent_dim=128, lipschitz=lipschitz.GradientPenalty(space, 10.0, 1.0))
    model.compile()  # the papers' optimizers for the strategy (schedules.paper_optimizers)
    return model


def _steps(model, xla):
    critic = tf.function(model.critic_step, jit_compile=xla)
    generator = tf.function(model.generator_step, jit_compile=xla)
    return critic, generator


def _time(fn, arg, reps):
    fn(arg)  # trace / compile
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        out = fn(arg)
        tf.nest.map_structure(lambda t: t.numpy(), out)
        times.append(time.perf_counter() - start)
    return times


def critic_step_flops(model, real) -> int:
    """Float operations of one critic step, counted by the TF profiler on the (non-XLA) graph (a cross-check)."""
    concrete = tf.function(model.critic_step).get_concrete_function(tf.TensorSpec(real.shape, real.dtype))
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(concrete.graph, options=options)
    return int(profile.total_float_ops)


def forward_macs(model: tf.keras.Model) -> int:
    """Multiply-accumulates of one sample's forward pass through the model's Conv2D, Conv2DTranspose and Dense
    layers (output positions x kernel size; elementwise ops, norms and pooling are not counted)."""
    macs = 0
    for layer in model.layers:
        if isinstance(layer, (tf.keras.layers.Conv2D, tf.keras.layers.Dense)):  # Conv2DTranspose is a Conv2D
            out = compat.output_shape(layer)
            positions = 1
            for d in out[1:-1]:
                positions *= int(d)
            kernel = int(tf.size(layer.kernel))
            if isinstance(layer, tf.keras.layers.Conv2DTranspose):  # each input position scatters one kernel
                positions = 1
                for d in compat.input_shape(layer)[1:-1]:
                    positions *= int(d)
            macs += positions * kernel
    return macs


def critic_step_flops_analytic(model, batch: int) -> dict:
    """FLOPs of one gradient-penalty critic step counted from the layers: 2 FLOPs per MAC; the generator forward
    (B samples, no backward); the critic on real and fake (2B, forward + backward = 3x forward); the penalty on B
    interpolates: forward 1x, input gradient 1x, double backward through both for the weight gradient 2 x 2x = 4x,
    so 6x forward. Total 2 B (12 F_D + F_G)."""
    f_d, f_g = forward_macs(model.critic), forward_macs(model.generator)
    return {"critic_forward_macs_per_sample": f_d, "generator_forward_macs_per_sample": f_g,
            "critic_step_flops": 2 * batch * (3 * 2 * f_d + 6 * f_d + f_g)}


def matmul_flops_per_s(n=2048, reps=5) -> float:
    a = tf.random.stateless_normal([n, n], seed=[0, 1])
    b = tf.random.stateless_normal([n, n], seed=[2, 3])
    matmul = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    best = min(_time(lambda _: matmul(a, b), None, reps))
    return 2.0 * n ** 3 / best


def run(quick: bool = False) -> dict:
    width, batch, reps = (16, 8, 2) if quick else (128, 64, 3)
    real = tf.random.stateless_uniform([batch, 32, 32, 3], seed=[4, 5], minval=-1, maxval=1)
    result = {"architecture": "resnet 32x32", "width": width, "batch": batch, "repetitions": reps, "n_critic": 5}

    base = _model("l2", width)
    for xla in (False, True):
        critic, generator = _steps(base, xla)
        tag = "xla" if xla else "no_xla"
        result[f"critic_step_s_{tag}"] = statistics.median(_time(critic, real, reps))
        result[f"generator_step_s_{tag}"] = statistics.median(_time(generator, real, reps))
    xla = result["critic_step_s_xla"] < result["critic_step_s_no_xla"]
    result["xla_faster"] = xla

    # Norm overhead: the same step for every space, repetitions interleaved so machine noise hits all alike.
    steps = {space: _steps(_model(space, width), xla)[0] for space in SPACES}
    for fn in steps.values():
        fn(real)
    times = {space: [] for space in SPACES}
    matmul_n = 1024 if quick else 2048
    peaks = [matmul_flops_per_s(matmul_n, reps=2)]  # sampled between the steps: the peak is the best of all
    for _ in range(reps):
        for space, fn in steps.items():
            times[space].extend(_time(fn, real, 1))
        peaks.append(matmul_flops_per_s(matmul_n, reps=2))
    medians = {space: statistics.median(t) for space, t in times.items()}
    result["critic_step_s_by_space"] = medians
    result["norm_overhead"] = {space: medians[space] / medians["l2"] - 1.0 for space in SPACES if space != "l2"}

    analytic = critic_step_flops_analytic(base, batch)
    flops = analytic.pop("critic_step_flops")
    peak = max(peaks)
    best_step = min(min(t) for t in times.values())  # best observed, like the peak it is divided by
    result.update(analytic)
    result.update(critic_step_flops=flops,
                  flops_counted_by="analytic: conv/dense MACs x 2; generator forward 1x, critic on real+fake 3x, "
                                   "gradient penalty 6x (forward, input gradient, double backward)",
                  critic_step_flops_profiler=critic_step_flops(base, real),
                  matmul_flops_per_s=peak, critic_step_flops_per_s=flops / best_step,
                  utilization=flops / best_step / peak)
    generator_step = min(result["generator_step_s_xla"], result["generator_step_s_no_xla"])
    result["consumed_images_per_s"] = batch * 5 / (5 * best_step + generator_step)
    result.update(precision_step_times(width, real, reps))
    return result


def precision_step_times(width: int, real, reps: int) -> dict:
    """Critic step (l2 penalty, no XLA) in float32 and in mixed_bfloat16, interleaved (the evidence for bf16 on
    CPUs with native bf16)."""
    previous = tf.keras.mixed_precision.global_policy()
    steps = {}
    try:
        for policy in ("float32", "mixed_bfloat16"):
            tf.keras.mixed_precision.set_global_policy(policy)
            steps[policy] = _steps(_model("l2", width), False)[0]
            steps[policy](real)  # trace
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)
    times = {policy: [] for policy in steps}
    for _ in range(reps):
        for policy, fn in steps.items():
            times[policy].extend(_time(fn, real, 1))
    f32, bf16 = (statistics.median(times[p]) for p in ("float32", "mixed_bfloat16"))
    return {"critic_step_s_float32": f32, "critic_step_s_mixed_bfloat16": bf16, "bfloat16_speedup": f32 / bf16}
