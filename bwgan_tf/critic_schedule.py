"""Critic updates per generator step: a constant n_critic, or the official WGAN schedule (Arjovsky et al. 2017,
martinarjovsky/WassersteinGAN main.py): 100 critic iterations for the first 25 generator iterations and for every
500th, n_critic otherwise,

    n(k) = 100 if k < 25 or k mod 500 = 0 else n_critic,

so the critic is near its optimum early on and at regular intervals. A generator step's data element holds n(k)
critic batches, read as B groups of n(k) consecutive samples like the constant layout (gan.py). Generator step k
starts at critic batch C(k) = sum_{j<k} n(j) = n_critic k + (100 - n_critic) (min(k, 25) + max(0, (k-1) // 500)),
which is where a resumed run's data stream starts.
"""
import tensorflow as tf

SCHEDULES = ("constant", "wgan")
WARM_UPDATES, WARM_STEPS, EVERY = 100, 25, 500  # main.py: Diters = 100 if gen_iterations < 25 or % 500 == 0


def updates(step: int, n_critic: int, schedule: str = "constant") -> int:
    """n(k): critic updates at generator step k (Python ints)."""
    if schedule == "constant":
        return n_critic
    return WARM_UPDATES if step < WARM_STEPS or step % EVERY == 0 else n_critic


def batches_before(step: int, n_critic: int, schedule: str = "constant") -> int:
    """C(k): critic batches used by generator steps 0..k-1 (closed form of the module docstring)."""
    if schedule == "constant":
        return n_critic * step
    warm = min(step, WARM_STEPS) + max(0, (step - 1) // EVERY)
    return n_critic * step + (WARM_UPDATES - n_critic) * warm


def updates_tensor(step: tf.Tensor, n_critic: int, schedule: str) -> tf.Tensor:
    """n(k) for a step counter tensor, as int32."""
    if schedule == "constant":
        return tf.constant(n_critic, tf.int32)
    warm = tf.logical_or(step < WARM_STEPS, tf.math.floormod(step, EVERY) == 0)
    return tf.where(warm, WARM_UPDATES, n_critic)


class Schedule:
    """How the training data is cut for a schedule: data.load(batch_size=B * batches_per_element,
    start_batch=first_element(start)), then group(dataset, start) gives one element per generator step."""

    def __init__(self, schedule: str, n_critic: int):
        if schedule not in SCHEDULES:
            raise ValueError(f"critic_schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
        self.schedule, self.n_critic = schedule, n_critic
        self.batches_per_element = n_critic if schedule == "constant" else 1

    def first_element(self, start: int) -> int:
        return start if self.schedule == "constant" else batches_before(start, self.n_critic, self.schedule)

    def group(self, dataset: tf.data.Dataset, start: int) -> tf.data.Dataset:
        """Critic batches [B, ...] from generator step `start` on -> elements [n(k) B, ...], B groups of n(k)."""
        if self.schedule == "constant":
            return dataset
        n_critic, schedule = self.n_critic, self.schedule

        def keys_of(step):  # the generator step of each of its critic batches
            return tf.data.Dataset.from_tensors(step).repeat(tf.cast(updates_tensor(step, n_critic, schedule),
                                                                     tf.int64))

        keys = tf.data.Dataset.counter(start).flat_map(keys_of)

        def element(step, window):
            count = tf.cast(updates_tensor(step, n_critic, schedule), tf.int64)
            return window.map(lambda _, batch: batch).batch(count).map(_interleave)  # [n(k), B, ...] -> [n(k) B, ...]

        return tf.data.Dataset.zip((keys, dataset)).group_by_window(
            key_func=lambda step, _: step, reduce_func=element,
            window_size_func=lambda step: tf.cast(updates_tensor(step, n_critic, schedule), tf.int64))


def _interleave(batches: tf.Tensor) -> tf.Tensor:
    """[n, B, ...] -> [B n, ...] with row b n + j = batches[j, b]: B groups of n, critic batch j = groups[:, j]."""
    rank = len(batches.shape)
    grouped = tf.transpose(batches, [1, 0, *range(2, rank)])
    return tf.reshape(grouped, tf.concat([[-1], tf.shape(batches)[2:]], 0))
