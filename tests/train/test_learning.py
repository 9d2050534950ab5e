"""An image GAN learns here: a tiny ResNet WGAN-GP trained on real CIFAR-10 images lowers the FID of its EMA
generator, measured with the standard FID network, by a clear factor between its first and last checkpoints."""
import numpy as np
import pytest

from bwgan_tf import metrics, train
from bwgan_tf.train import build

STEPS, FIRST, SAMPLES = 300, 20, 300


@pytest.mark.slow
def test_fid_of_a_tiny_resnet_falls_while_it_trains_on_real_cifar(tmp_path, cifar_subset_path):
    run_dir = str(tmp_path / "learn")
    config = train.make_config(
        dataset=f"npz:{cifar_subset_path}", architecture="resnet", width=16, latent_dim=64, space="l2", lam=10.0,
        gamma=1.0, batch_size=32, n_critic=5, steps=STEPS, lr=2e-4, lr_decay=False, ema_decay=0.95,
        checkpoint_every=FIRST, keep_checkpoints=STEPS // FIRST, sample_every=0, log_every=100, xla=False,
        output_dir=run_dir)
    train.train(config, print_fn=lambda *a, **k: None)
    extractor = metrics.fid_extractor(precision="bfloat16")
    with np.load(cifar_subset_path) as data:
        real = data["x_train"][-SAMPLES:].astype(np.float32) / 127.5 - 1.0
    reference = metrics.reference_statistics([real[i:i + 100] for i in range(0, SAMPLES, 100)], extractor,
                                             num=SAMPLES, kid_samples=0)
    model = build.build_model(build.read_config(run_dir))
    manager = build.checkpoint_manager(model, run_dir)
    fids = {}
    for step in (FIRST, STEPS):
        manager.checkpoint.restore(f"{manager.directory}/ckpt-{step}").expect_partial()
        fids[step] = metrics.evaluate(model, metrics="fid", num_samples=SAMPLES, extractor=extractor,
                                      reference_stats=reference, seed=1)[f"fid{SAMPLES}"]
    # measured here: 377 -> 268 (1.4x); a generator that does not learn keeps its FID (ratio ~1)
    assert fids[STEPS] < fids[FIRST] / 1.25, fids
