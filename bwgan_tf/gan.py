"""The Wasserstein GAN family as one Keras model: WGAN, WGAN-GP, Banach WGAN, c-transform, quotient penalty.

``WassersteinGAN.fit(dataset)`` runs Algorithm 1 of Gulrajani et al. 2017 with the critic loss of Adler & Lunz
2018, eq. 8:

    L_D = (E D(G(z)) - E D(x)) / gamma + penalty + drift * E D(x)^2,     L_G = -E D(G(z)) / gamma,

where the Lipschitz strategy (bwgan_tf.lipschitz) supplies the scores, the penalty and any projection. Written for
the normalised critic f = D / gamma (the 1-Lipschitz function the penalty aims at), the paper's drift term weighs
drift * gamma^2 E f(x)^2; drift_mode="normalized" applies it to f instead: drift * E (D(x) / gamma)^2.

Data layout: each element of the dataset is one generator step's worth of real samples, [n_critic * B, ...]
(a tuple's first element is used). train_step splits it into n_critic batches of B, one per critic update
(the papers' algorithm draws a fresh real batch for every critic update), then makes one generator update with
B latent vectors; the c-transform generator loss also uses the last real batch. The element is read as B groups of
n_critic consecutive samples and critic update j takes sample j of every group, so under MirroredStrategy (which
hands each replica a contiguous block of groups) the replicas together see exactly the batches of one device.

Randomness: latent vectors and interpolation points are stateless draws keyed by (seed, step counter), made for the
global batch and sliced per replica (bwgan_tf.replicas), so runs are reproducible under XLA, resume exactly from a
checkpoint (the counters are checkpointed), and match between one device and several.
"""
from typing import Union

import tensorflow as tf

from bwgan_tf import checks, compat, latents, replicas, schedules
from bwgan_tf import critic_schedule as critic_schedule_lib
from bwgan_tf import lipschitz as lipschitz_lib

DRIFT_MODES = ("paper", "normalized")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


class WassersteinGAN(tf.keras.Model):
    """Generator, critic, an EMA copy of the generator, and the training step of the WGAN family.

    Args:
      generator: keras.Model z [N, latent_dim] -> samples [N, ...].
      critic: keras.Model samples [N, ...] -> scores [N] (or [N, 1]).
      latent_dim: size of z.
      lipschitz: a lipschitz.LipschitzStrategy, or its name (built with defaults).
      n_critic: critic updates per generator update (5 in the papers).
      ema_decay: decay of the exponential moving average of the generator weights, in [0, 1).
      drift: weight of the drift term in the critic loss (Adler & Lunz 2018: 1e-5).
      drift_mode: "paper" (drift * E D(x)^2, eq. 8 as the paper and the official code write it) or "normalized"
        (drift * E (D(x) / gamma)^2: the same weight on the normalised critic whatever gamma is).
      seed: seed of the training draws (latent vectors, interpolation points).
      generator_batch_factor: latent vectors per generator update, as a multiple of the critic batch B (the
        official BWGAN and WGAN-GP codes draw 2 x 64 = 128).
      critic_schedule: "constant" (n_critic updates per generator step) or "wgan" (bwgan_tf.critic_schedule: 100
        for the first 25 generator steps and every 500th; the data element of step k then holds n(k) batches).
    """

    def __init__(self, generator: tf.keras.Model, critic: tf.keras.Model, *, latent_dim: int,
                 lipschitz: Union[str, lipschitz_lib.LipschitzStrategy] = "gradient_penalty", n_critic: int = 5,
                 ema_decay: float = 0.999, drift: float = 1e-5, seed: int = 0, generator_batch_factor: int = 1,
                 critic_schedule: str = "constant", drift_mode: str = "paper", **kwargs):
        super().__init__(**kwargs)
        checks.positive_int(latent_dim, "latent_dim")
        checks.positive_int(n_critic, "n_critic")
        _check(isinstance(ema_decay, (int, float)) and 0 <= ema_decay < 1,
               f"ema_decay must be in [0, 1), got {ema_decay!r}")
        checks.number(drift, "drift", non_negative=True)
        _check(isinstance(seed, int), f"seed must be an integer, got {seed!r}")
        if isinstance(lipschitz, str):
            lipschitz = lipschitz_lib.build(lipschitz)
        _check(isinstance(lipschitz, lipschitz_lib.LipschitzStrategy),
               f"lipschitz must be a LipschitzStrategy or one of {', '.join(lipschitz_lib.STRATEGIES)}, "
               f"got {lipschitz!r}")
        self.generator = generator
        self.critic = critic
        self.latent_dim = latent_dim
        self.lipschitz = lipschitz
        self.n_critic = n_critic
        self.ema_decay = float(ema_decay)
        self.drift = float(drift)
        self.drift_mode = checks.one_of(drift_mode, "drift_mode", DRIFT_MODES)
        self.seed = seed
        self.generator_batch_factor = checks.positive_int(generator_batch_factor, "generator_batch_factor")
        self.critic_schedule = checks.one_of(critic_schedule, "critic_schedule", critic_schedule_lib.SCHEDULES)
        self.ema_generator = tf.keras.models.clone_model(generator)
        self.ema_generator.set_weights(generator.get_weights())
        self.ema_generator.trainable = False
        counter = dict(dtype=tf.int64, trainable=False, aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.generator_steps = tf.Variable(0, name="generator_steps", **counter)
        self.critic_steps = tf.Variable(0, name="critic_steps", **counter)
        compat.mark_built(self)

    def compile(self, generator_optimizer=None, critic_optimizer=None, **kwargs):
        """Takes the two optimizers (default: paper_optimizers for the strategy) and Keras compile options.

        jit_compile defaults to True on one device (cross-replica updates of the EMA do not compile under XLA).
        On CPU, XLA is slower than oneDNN for convolutional GANs (BUILD_NOTES.md): pass jit_compile=False there.
        """
        kwargs.setdefault("jit_compile", tf.distribute.get_strategy().num_replicas_in_sync == 1)
        if generator_optimizer is None or critic_optimizer is None:
            default_g, default_c = schedules.paper_optimizers(self.lipschitz.name, n_critic=self.n_critic)
            generator_optimizer = generator_optimizer or default_g
            critic_optimizer = critic_optimizer or default_c
        super().compile(**kwargs)
        # train_step returns scalars already averaged over the replicas; Keras' default ("auto") would sum them.
        self.distribute_reduction_method = "first"
        self.generator_optimizer = generator_optimizer
        self.critic_optimizer = critic_optimizer
        # Slots now, not at the first update: a restore then fills (and assert_existing_objects_matched checks) them
        # at once, like every other variable.
        for optimizer, model in ((generator_optimizer, self.generator), (critic_optimizer, self.critic)):
            if hasattr(optimizer, "build"):
                optimizer.build(model.trainable_variables)

    def call(self, z, training=False):
        """Samples of the EMA generator for latent vectors z [N, latent_dim]."""
        return self.ema_generator(z, training=training)

    # ----------------------------------------------------------------------------------------------
    def _draws(self, counter: tf.Variable, stream: int) -> replicas.StatelessDraws:
        return replicas.StatelessDraws(tf.stack([tf.constant(self.seed, tf.int64), 2 * counter + stream]))

    @staticmethod
    def _loss_for_gradients(optimizer, loss):
        """Per-replica losses are means over the replica's batch and the optimizer sums gradients over replicas,
        so each replica contributes loss / R; under mixed_float16 the loss is also scaled (LossScaleOptimizer)."""
        return compat.scaled_loss(optimizer, loss / replicas.replica_position()[1])

    @staticmethod
    def _apply(optimizer, tape, share, variables) -> None:
        gradients = compat.unscaled_gradients(optimizer, tape.gradient(share, variables))
        optimizer.apply_gradients(zip(gradients, variables))

    def critic_step(self, real) -> dict:
        """One critic update on a real batch [B, ...]; the generator's trainable weights are untouched."""
        draws = self._draws(self.critic_steps, 0)
        fake = self.generator(draws.normal([tf.shape(real)[0], self.latent_dim]), training=True)
        gamma = self.lipschitz.gamma
        with tf.GradientTape() as tape:
            d_real, d_fake = self.lipschitz.scores(self.critic, real, fake)
            wasserstein = tf.reduce_mean(d_real) - tf.reduce_mean(d_fake)
            penalty, grad_norm = self.lipschitz.penalty(self.critic, real, fake, draws)
            drifting = d_real / gamma if self.drift_mode == "normalized" else d_real
            drift = self.drift * tf.reduce_mean(tf.square(drifting))
            loss = -wasserstein / gamma + penalty + drift
            share = self._loss_for_gradients(self.critic_optimizer, loss)
        self._apply(self.critic_optimizer, tape, share, self.critic.trainable_variables)
        self.lipschitz.after_critic_update(self.critic)
        self.critic_steps.assign_add(1)
        return {"critic_loss": loss, "wasserstein": wasserstein / gamma, "penalty": penalty, "drift": drift,
                "grad_norm": grad_norm}

    def generator_step(self, real) -> dict:
        """One generator update with generator_batch_factor x len(real) latent vectors, then the EMA update; the
        critic is untouched."""
        draws = self._draws(self.generator_steps, 1)
        with tf.GradientTape() as tape:
            latents = draws.normal([tf.shape(real)[0] * self.generator_batch_factor, self.latent_dim])
            fake = self.generator(latents, training=True)
            _, d_fake = self.lipschitz.scores(self.critic, real, fake)
            loss = -tf.reduce_mean(d_fake) / self.lipschitz.gamma
            share = self._loss_for_gradients(self.generator_optimizer, loss)
        self._apply(self.generator_optimizer, tape, share, self.generator.trainable_variables)
        self.update_ema()
        self.generator_steps.assign_add(1)
        return {"generator_loss": loss}

    def update_ema(self) -> None:
        """ema <- decay * ema + (1 - decay) * w for trainable weights; other weights (BN statistics) copied."""
        trainable = {id(v) for v in self.generator.trainable_variables}
        decay = self.ema_decay

        def rule(weight):
            if id(weight) in trainable:
                return lambda ema: decay * ema + (1.0 - decay) * tf.cast(weight, ema.dtype)
            return lambda ema: tf.cast(weight, ema.dtype)

        replicas.assign((ema, rule(w)) for ema, w in zip(self.ema_generator.weights, self.generator.weights))

    def train_step(self, data):
        real = data[0] if isinstance(data, (tuple, list)) else data
        if self.critic_schedule == "constant":
            groups = tf.reshape(real, tf.concat([[-1, self.n_critic], tf.shape(real)[1:]], axis=0))
            batches = [tf.ensure_shape(groups[:, j], [None] + real.shape[1:].as_list()) for j in range(self.n_critic)]
            logs = {}
            for batch in batches:
                logs = self.critic_step(batch)
            last = batches[-1]
        else:
            logs, last = self._scheduled_critic_steps(real)
        logs.update(self.generator_step(last))
        logs.update(lam=tf.constant(self.lipschitz.lam, tf.float32),
                    gamma=tf.constant(self.lipschitz.gamma, tf.float32),
                    lr=compat.applied_learning_rate(self.critic_optimizer))
        return compat.step_logs(replicas.mean({k: tf.cast(v, tf.float32) for k, v in logs.items()}))

    def _scheduled_critic_steps(self, real):
        """n(k) critic updates (critic_schedule) on the B groups of n(k) samples of `real`, in a while loop; returns
        the last update's logs and its batch."""
        count = critic_schedule_lib.updates_tensor(self.generator_steps, self.n_critic, self.critic_schedule)
        groups = tf.reshape(real, tf.concat([[-1, count], tf.shape(real)[1:]], axis=0))
        shape = [None] + real.shape[1:].as_list()

        def update(j, logs):
            new = self.critic_step(tf.ensure_shape(groups[:, j], shape))
            return j + 1, {k: tf.cast(new[k], tf.float32) for k in logs}

        names = ("critic_loss", "wasserstein", "penalty", "drift", "grad_norm")
        _, logs = tf.while_loop(lambda j, _: j < count, update, (0, {k: tf.constant(0.0) for k in names}))
        return logs, tf.ensure_shape(groups[:, count - 1], shape)

    # ----------------------------------------------------------------------------------------------
    def sample(self, num: int, seed: int = 0) -> tf.Tensor:
        """num samples of the EMA generator from stateless normal latents for ``seed``."""
        return self.ema_generator(latents.for_seed(seed, num, self.latent_dim), training=False)

    def checkpoint_items(self) -> dict:
        """Everything a resumed run needs, for tf.train.Checkpoint(**items)."""
        items = dict(generator=self.generator, critic=self.critic, ema_generator=self.ema_generator,
                     generator_steps=self.generator_steps, critic_steps=self.critic_steps)
        if getattr(self, "generator_optimizer", None) is not None:
            items.update(generator_optimizer=self.generator_optimizer, critic_optimizer=self.critic_optimizer)
        return items

