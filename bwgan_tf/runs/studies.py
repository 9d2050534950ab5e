"""The studies: which runs each trains (settings that differ from a shared base, seeds), and its FID protocol
(how often, how many samples, against which reference); `cifar10_seeds` also imports runs of an earlier study.
bwgan_tf.runs.study trains, evaluates and reports them."""
import dataclasses
import os
from typing import Callable, Dict

SUBSET = os.path.join("..", "shared", "data", "cifar10_subset.npz")


@dataclasses.dataclass(frozen=True)
class Study:
    """Runs sharing `base` settings; FID of `eval_samples` every `eval_every` steps, `final_samples` at the end."""

    base: Callable[[str], dict]  # data path -> TrainConfig settings shared by every run
    runs: Dict[str, dict]  # run name -> the settings that differ
    eval_every: int
    eval_samples: int
    final_samples: int
    reference: Callable[[str], str]  # data path -> dataset spec of the reference images (train and test splits)
    imported: Dict[str, str] = dataclasses.field(default_factory=dict)  # run name -> its name in imported_from
    imported_from: str = ""  # an earlier study's results folder: table.json, curves.json, exports/<name>/


_CPU_BASE = dict(architecture="resnet", width=32, batch_size=64, n_critic=5, lr=2e-4, lr_decay=True, steps=2000,
                 ema_decay=0.99, checkpoint_every=250, keep_checkpoints=100, sample_every=500, log_every=50)
_L2 = dict(space="l2", lam=10.0, gamma=1.0)
_SOBOLEV = dict(space="sobolev:s=-1.5,p=2,c=5", lam="auto", gamma="auto")
_L10 = dict(space="lp:p=10", lam="auto", gamma="auto")


def _seeded(name: str, settings: dict, seeds) -> dict:
    return {f"{name}_s{seed}": dict(settings, seed=seed) for seed in seeds}


STUDIES = {
    # The CPU-scale study: the 5,085 real CIFAR-10 images of the shared subset, ResNet width 32.
    "cifar10_cpu": Study(
        base=lambda path: dict(_CPU_BASE, dataset=f"npz:{path}"),
        runs={"l2_bf16_s0": dict(_L2, seed=0, mixed_precision=True),
              "sobolev_bf16_s0": dict(_SOBOLEV, seed=0, mixed_precision=True),
              "l10_bf16_s0": dict(_L10, seed=0, mixed_precision=True),
              "l2_bf16_s1": dict(_L2, seed=1, mixed_precision=True),
              "l2_f32_s0": dict(_L2, seed=0, mixed_precision=False)},
        eval_every=500, eval_samples=2000, final_samples=5000, reference=lambda path: f"npz:{path}"),
    # The paper's runs (needs a GPU and TFDS cifar10): Figs. 2-3 protocol at 100k generator steps.
    "cifar10_paper": Study(
        base=lambda path: dict(dataset="cifar10", checkpoint_every=5000, keep_checkpoints=100),
        runs={"wgan_gp": dict(preset="cifar10_wgan_gp"), "sobolev": dict(preset="cifar10_sobolev"),
              "l10": dict(preset="cifar10_l10")},
        eval_every=10_000, eval_samples=10_000, final_samples=50_000, reference=lambda path: "cifar10"),
    # Which norm trains better, with seeds: l2 (WGAN-GP), W^{-3/2,2} and L^10 with the paper's drift term and with
    # the drift on the normalised critic, 3 seeds each, at the settings of cifar10_cpu (its bf16 runs are seeds 0
    # and 1 of l2 and seed 0 of the paper-drift Banach runs: `imported`). Listed in the order they are trained:
    # one seed of each open question first, then a second seed of each Banach configuration, then the third seeds.
    # Precision "auto": bfloat16 where the CPU has it natively (as the imported runs had), float32 elsewhere
    # (emulated bfloat16 trains 8x slower); each run saves its choice.
    "cifar10_seeds": Study(
        base=lambda path: dict(_CPU_BASE, dataset=f"npz:{path}", mixed_precision="auto"),
        runs={**_seeded("l10_normalized", dict(_L10, drift_mode="normalized"), [0]),
              **_seeded("sobolev_normalized", dict(_SOBOLEV, drift_mode="normalized"), [0]),
              **_seeded("l10_paper", _L10, [1]),
              **_seeded("l10_normalized", dict(_L10, drift_mode="normalized"), [1]),
              **_seeded("sobolev_normalized", dict(_SOBOLEV, drift_mode="normalized"), [1]),
              **_seeded("sobolev_paper", _SOBOLEV, [1]), **_seeded("l2", _L2, [2]),
              **_seeded("l10_paper", _L10, [2]), **_seeded("sobolev_paper", _SOBOLEV, [2]),
              **_seeded("l10_normalized", dict(_L10, drift_mode="normalized"), [2]),
              **_seeded("sobolev_normalized", dict(_SOBOLEV, drift_mode="normalized"), [2])},
        eval_every=500, eval_samples=2000, final_samples=5000, reference=lambda path: f"npz:{path}",
        imported={"l2_s0": "l2_bf16_s0", "l2_s1": "l2_bf16_s1", "sobolev_paper_s0": "sobolev_bf16_s0",
                  "l10_paper_s0": "l10_bf16_s0"}, imported_from=os.path.join("results", "cifar10_cpu")),
}
