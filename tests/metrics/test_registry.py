"""The metric registry: labels state the protocol and are recognised for every registered metric (the pattern is
derived from the registry), sweep panels come from the metrics' declared traits."""
import pytest

from bwgan_tf import metrics
from bwgan_tf.metrics import registry


class StandIn:
    name, is_inception = "cifar10_classifier", False


@pytest.mark.parametrize("name", sorted(registry.METRICS))
def test_every_registered_metric_labels_are_recognised(name):
    settings = registry.Settings(2000, kid_samples=1000, swd_samples=512)
    for extractor in (None, StandIn()):
        stem = registry.metric_label(name, settings, extractor)
        assert registry.is_metric_label(stem) and registry.is_metric_label(stem + "_std")
        assert (extractor is None or not registry.METRICS[name].uses_features) == ("cifar10" not in stem)
    for other in ("wasserstein", "steps_per_s", "fidelity", "issue", "step"):
        assert not registry.is_metric_label(other)


def test_a_newly_registered_metric_is_recognised_without_editing_a_pattern():
    assert not registry.is_metric_label("zz100")

    @registry.register("zz", plotted=("",))
    class Dummy:
        def __init__(self, settings):
            pass

    try:
        assert registry.is_metric_label("zz100") and registry.plotted_labels(["zz100", "fid2k"]) == ["fid2k", "zz100"]
    finally:
        del registry.METRICS["zz"]
    assert not registry.is_metric_label("zz100")


def test_plotted_labels_follow_the_registry_and_prefer_the_inception_names():
    keys = ["fd10k_clf", "fid10k", "is10k_std", "cs10k_clf", "pr10k_k3_precision", "pr10k_k3_recall", "kid10k"]
    assert registry.plotted_labels(keys) == ["cs10k_clf", "fid10k", "pr10k_k3_precision", "pr10k_k3_recall"]
    assert registry.plotted_labels(keys + ["is10k"]) == ["is10k", "fid10k", "pr10k_k3_precision", "pr10k_k3_recall"]


def test_reference_images_and_checks_come_from_the_metrics_traits():
    settings = registry.Settings(100, swd_samples=64)
    assert registry.reference_images("fid,kid", settings) == 0
    assert registry.reference_images("fid,swd", settings) == 64
    with pytest.raises(ValueError, match="power of two"):
        registry.check_images("fid,swd", (24, 24, 3))
    registry.check_images("fid,kid", (24, 24, 3))  # no metric among them needs a pyramid
    with pytest.raises(ValueError, match="--num_samples must be >= --splits"):
        registry.check_settings("is", registry.Settings(5, splits=10))
    assert metrics.parse_metrics("swd,fid") == ("swd", "fid")
