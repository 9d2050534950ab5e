"""Critic health (train.health) by its definitions, and the drift warning: it fires once, after a sustained stretch,
naming the remedy; a recovered critic resets the stretch."""
import pytest

from bwgan_tf.train import health


def scalars(wasserstein, drift, penalty=0.5, grad_norm=300.0, gamma=600.0):
    return dict(wasserstein=wasserstein, drift=drift, penalty=penalty, grad_norm=grad_norm, gamma=gamma)


def test_health_values_follow_their_definitions():
    values = health.critic_health(scalars(-0.2, 0.3))
    assert set(values) == set(health.HEALTH_KEYS)
    assert values["w_over_gamma"] == -0.2 and values["grad_norm_over_gamma"] == pytest.approx(0.5)
    assert values["drift_share"] == pytest.approx(0.3 / 1.0) and values["penalty_share"] == pytest.approx(0.5 / 1.0)
    assert health.critic_health({"generator_loss": 1.0}) == {}  # no critic terms, no health


def test_drift_watch_warns_once_after_a_sustained_stretch_and_names_the_remedy():
    watch = health.DriftWatch(1e-5, "paper", patience=3)
    assert watch.update(50, scalars(0.01, 0.5)) is None and watch.update(100, scalars(0.01, 0.5)) is None
    assert watch.update(150, scalars(0.9, 0.5)) is None  # the Wasserstein term is back on top: the stretch restarts
    assert [watch.update(step, scalars(0.01, 0.5)) for step in (200, 250)] == [None, None]
    warning = watch.update(300, scalars(0.01, 0.5))
    assert warning.startswith("critic health: since generator step 200 the drift term (0.5) has outweighed")
    assert "1e-05 gamma^2 = 3.6" in warning and "--drift_mode=normalized" in warning
    assert watch.update(350, scalars(0.01, 0.5)) is None  # once per run


def test_drift_watch_is_quiet_while_the_wasserstein_term_leads():
    watch = health.DriftWatch(1e-5, "normalized", patience=2)
    assert all(watch.update(step, scalars(0.5, 1e-4)) is None for step in range(0, 1000, 50))
    assert "smaller --drift" in [watch.update(s, scalars(0.0, 1e-4)) for s in (1000, 1050)][-1]
