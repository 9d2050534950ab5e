"""Stack benchmark: the paper-size critic step (CIFAR ResNet, width 128, batch 64, l2 gradient penalty, no XLA) in
float32 and mixed_bfloat16 on this interpreter's TensorFlow stack (tools/benchmark.py --compare_python runs it on
another stack too, so the two are measured on the same machine one after the other)."""
from benchmarks import train_step
from bwgan_tf import compat


def run(quick: bool = False) -> dict:
    import tensorflow as tf
    width, batch, reps = (16, 8, 2) if quick else (128, 64, 5)
    real = tf.random.stateless_uniform([batch, 32, 32, 3], seed=[4, 5], minval=-1, maxval=1)
    result = {"stack": compat.stack(), "architecture": "resnet 32x32", "width": width, "batch": batch,
              "repetitions": reps}
    result.update(train_step.precision_step_times(width, real, reps))
    return result
