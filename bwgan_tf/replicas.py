"""Replica-aware helpers, so one training step means the same thing on one device and under MirroredStrategy.

* ``StatelessDraws``: every random draw is made for the global batch from a stateless seed and sliced to this
  replica's rows, so R replicas together draw exactly what one device draws (and XLA honours the seed).
* ``mean``: a step's logged scalars averaged over the replicas, so they are the global batch's.
* ``assign``: variable updates that every replica would compute identically (EMA, weight clipping) are made once,
  in cross-replica context, because a MirroredVariable cannot be assigned from a replica (Keras 3 variables are
  unwrapped to the distributed tf.Variable they hold: compat.tf_variable).
"""
from typing import Callable, Iterable, Tuple

import tensorflow as tf

from bwgan_tf import compat


def replica_position() -> Tuple[tf.Tensor, int]:
    """(this replica's index, number of replicas in sync); (0, 1) outside any strategy."""
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context
        return tf.constant(0), 1
    return tf.cast(context.replica_id_in_sync_group, tf.int32), context.num_replicas_in_sync


class StatelessDraws:
    """Normal and uniform draws keyed by a [2] seed; the i-th call uses fold_in(seed, i).

    Shapes are per replica: [b, ...] draws [R * b, ...] for the global batch and returns rows r*b .. (r+1)*b.
    """

    def __init__(self, seed):
        self._seed = tf.cast(seed, tf.int64)
        self._calls = 0

    def _draw(self, sampler: Callable, shape, dtype):
        replica, replicas = replica_position()
        local = shape[0]
        seed = tf.random.experimental.stateless_fold_in(self._seed, self._calls)
        self._calls += 1
        draws = sampler(tf.concat([[local * replicas], tf.cast(shape[1:], tf.int32)], axis=0), seed=seed, dtype=dtype)
        return draws[replica * local:(replica + 1) * local]

    def normal(self, shape, dtype=tf.float32):
        return self._draw(tf.random.stateless_normal, shape, dtype)

    def uniform(self, shape, dtype=tf.float32):
        return self._draw(tf.random.stateless_uniform, shape, dtype)


def mean(scalars: dict) -> dict:
    """{name: mean over the replicas in sync} of float32 scalars, in one all-reduce of them stacked (unchanged on one
    replica). Each replica's scalars are means over its equal part of the global batch, so these are the global
    batch's, as one device computes them."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return scalars
    names = sorted(scalars)
    stacked = context.all_reduce(tf.distribute.ReduceOp.MEAN, tf.stack([scalars[k] for k in names]))
    return dict(zip(names, tf.unstack(stacked)))


def assign(pairs: Iterable[Tuple[tf.Variable, Callable[[tf.Tensor], tf.Tensor]]]) -> None:
    """For each (variable, fn): variable <- fn(variable), once per variable copy, from any context."""
    pairs = list(pairs)

    def update_all(strategy):
        for variable, fn in pairs:
            strategy.extended.update(compat.tf_variable(variable), lambda v, f=fn: v.assign(f(v)), group=False)

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        for variable, fn in pairs:
            variable.assign(fn(variable))
    else:
        context.merge_call(update_all)
