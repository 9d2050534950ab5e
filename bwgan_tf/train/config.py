"""One typed training configuration: every setting with its type, default and help, validated in one place.

``TrainConfig`` is a frozen dataclass; ``define_flags`` generates the absl flags of tools/train.py from its
fields, so a new setting is one line here. A ValueError from validation starts with the setting's name,
which is also the flag's name.
"""
import dataclasses
import os
import typing
from typing import Optional, Tuple, Union

from bwgan_tf import checks, critic_schedule, lipschitz, models, parameters, spaces
from bwgan_tf import gan as gan_lib
from bwgan_tf.train.presets import PRESETS

STRATEGIES = ("default", "mirrored", "multi_worker")


def setting(default, help_text: str, choices=None):
    """A field with its one-line help (and, for enumerations, a callable returning the allowed values)."""
    return dataclasses.field(default=default, metadata={"help": help_text, "choices": choices})


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; defaults are the paper's CIFAR-10 set-up (Adler & Lunz 2018)."""

    preset: Optional[str] = setting(None, "A paper experiment (bwgan_tf.train.presets); flags override its values.",
                                    choices=lambda: tuple(PRESETS))
    # data
    dataset: str = setting("cifar10", "Data spec: cifar10, celeb_a, lsun_bedroom, npz:PATH, folder:PATH, toy:NAME.")
    data_dir: Optional[str] = setting(None, "TFDS data directory.")
    image_size: Optional[int] = setting(None, "Resolution for celeb_a, lsun_bedroom and folder: data.")
    train_split: str = setting("train", "Images trained on: train, or all (train + test: the official BWGAN code's "
                                        "60k CIFAR-10 images). FID references stay the train split.",
                               choices=lambda: ("train", "all"))
    flip: bool = setting(False, "Random horizontal flips of the real images (official BWGAN code).")
    dequantize: bool = setting(False, "Add U[0, 1/256) noise to the real images (official BWGAN and WGAN-GP codes).")
    # Lipschitz constraint
    space: str = setting("l2", "Banach space spec: l2, lp:p=10, sobolev:s=-1.5,p=2,c=5, ...")
    lipschitz: str = setting("gradient_penalty", "How the critic is kept Lipschitz.",
                             choices=lambda: tuple(lipschitz.STRATEGIES))
    lam: Union[float, str] = setting("auto", "Penalty weight lambda: a number or 'auto' (E||X||_B, section 3.2).")
    gamma: Union[float, str] = setting("auto", "Critic scale gamma: a number or 'auto' (E||X||_B*, section 3.2).")
    gamma_rule: str = setting("paper", "gamma=auto for Sobolev spaces: paper (E||X||_B*) or official (adler-j/bwgan "
                                       "filters with +s: gamma = lambda for p = 2).",
                              choices=lambda: parameters.GAMMA_RULES)
    clip: float = setting(0.01, "Weight-clipping bound c (WGAN).")
    one_sided: bool = setting(False, "Penalise only dual norms above gamma.")
    scale_critic_output: bool = setting(False, "Multiply the critic's output by gamma: the network is the normalised "
                                               "critic D/gamma, so Adam need not grow it gamma-fold (the loss and its "
                                               "minimisers are unchanged).")
    drift: float = setting(1e-5, "Weight of the drift term (Adler & Lunz 2018: 1e-5).")
    drift_mode: str = setting("paper", "paper: drift * E D(real)^2 as eq. 8 writes it, which weighs drift * gamma^2 on "
                                       "the normalised critic D/gamma; normalized: drift * E (D(real)/gamma)^2.",
                              choices=lambda: gan_lib.DRIFT_MODES)
    # models
    architecture: str = setting("resnet", "resnet | dcgan | mlp | toy_mlp, or GENERATOR/CRITIC (e.g. mlp/dcgan).")
    width: Optional[int] = setting(None, "Channels / units (default: the architecture's paper value).")
    latent_dim: int = setting(128, "Size of z.")
    critic_normalization: Optional[str] = setting(None, "none | layer | batch (batch only with weight clipping).")
    generator_batch_norm: bool = setting(True, "Batch norm in the convolutional generators.")
    # optimisation
    n_critic: int = setting(5, "Critic updates per generator update.")
    critic_schedule: str = setting("constant", "constant: n_critic critic updates per generator step; wgan: 100 for "
                                               "the first 25 generator steps and every 500th (official WGAN main.py).",
                                   choices=lambda: critic_schedule.SCHEDULES)
    batch_size: int = setting(64, "Samples per critic update.")
    generator_batch_size: Optional[int] = setting(None, "Latent vectors per generator update, a multiple of "
                                                        "batch_size (default: batch_size; official codes: 128).")
    steps: int = setting(100_000, "Generator steps of the whole run.")
    lr: Optional[float] = setting(None, "Learning rate (default: 2e-4 Adam for penalties, 5e-5 RMSProp for clipping).")
    lr_decay: bool = setting(True, "Decay the learning rate linearly to 0 over --steps.")
    adam_beta1: float = setting(0.0, "Adam's beta1 (penalty methods; the papers' 0, gan_toy.py's 0.5).")
    adam_beta2: float = setting(0.9, "Adam's beta2 (penalty methods).")
    ema_decay: float = setting(0.999, "Decay of the generator's weight average used for samples and export.")
    seed: int = setting(0, "Seed of initial weights, data order and training draws.")
    # execution
    xla: Union[bool, str] = setting("auto", "true | false | auto (auto: where measured faster).")
    mixed_precision: Union[bool, str] = setting("auto", "true | false | auto: mixed_float16 on GPU, mixed_bfloat16 on "
                                                "CPU, norms in float32; auto: bfloat16 for the conv models on CPUs "
                                                "with native bfloat16 (AVX512_BF16, AMX), else float32.")
    strategy: str = setting("default", "mirrored: all visible GPUs (or virtual CPUs); multi_worker: the workers of "
                                       "TF_CONFIG (MultiWorkerMirroredStrategy).", choices=lambda: STRATEGIES)
    collective_timeout: int = setting(600, "multi_worker: a worker exits (code 4) when no training step ends for "
                                           "this many seconds (a hung peer); must exceed the chief's longest pause "
                                           "(an evaluation) and the first step's tracing.")
    # run directory and logging
    output_dir: Optional[str] = setting(None, "Run directory (required); an existing one is resumed.")
    checkpoint_every: int = setting(1000, "Generator steps between checkpoints.")
    keep_checkpoints: int = setting(3, "Checkpoints kept on disk.")
    sample_every: int = setting(1000, "Generator steps between sample grids (0: only at the end).")
    log_every: int = setting(100, "Generator steps between metrics.jsonl lines and progress lines.")
    # evaluation during training
    eval_every: int = setting(0, "Generator steps between IS/FID evaluations (0: none).")
    eval_metrics: str = setting("fid", "Comma list of metric names (bwgan_tf.metrics; is needs --inception).")
    eval_num_samples: int = setting(10_000, "Generated samples per evaluation.")
    eval_classifier: Optional[str] = setting(None, "Keras/SavedModel classifier to use instead of Inception.")
    inception: Optional[str] = setting(None, "Local path or hub handle of TF-GAN's Inception module.")

    def __post_init__(self):
        try:
            values = _validated(self)
        except ValueError as error:  # "lam must be ..." -> "lam: must be ...": the message starts with the setting
            name, _, rest = str(error).partition(" ")
            raise ValueError(f"{name}: {rest}" if name in names() else str(error)) from None
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes) -> "TrainConfig":
        """A validated copy with `changes` (unknown names raise a ValueError listing the known ones)."""
        _check_names(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict, ignore_unknown: bool = False) -> "TrainConfig":
        """From a dict such as config.json (extra keys written beside the settings are ignored when asked)."""
        known = {f.name for f in dataclasses.fields(cls)}
        if not ignore_unknown:
            _check_names(values)
        return cls(**{k: v for k, v in values.items() if k in known})

    @property
    def generator_batch_factor(self) -> int:
        """generator_batch_size / batch_size (1 when generator_batch_size is not set)."""
        return (self.generator_batch_size or self.batch_size) // self.batch_size

    @property
    def architectures(self) -> Tuple[str, str]:
        """(generator architecture, critic architecture)."""
        return split_architecture(self.architecture)


def make_config(preset: Optional[str] = None, **overrides) -> TrainConfig:
    """TrainConfig's defaults, then the preset's values (train.presets), then the overrides that are not None;
    validated. Raises ValueError naming the setting (the same name as the tool's flag) and what is allowed."""
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    values = dict(PRESETS.get(preset, {}))
    values.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig().replace(preset=preset, **values)


def names() -> Tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(TrainConfig))


def _check_names(values: dict) -> None:
    unknown = sorted(set(values) - set(names()))
    if unknown:
        raise ValueError(f"unknown config keys {', '.join(unknown)}; known: {', '.join(sorted(names()))}")


def split_architecture(architecture: str) -> Tuple[str, str]:
    """'NAME' or 'GENERATOR/CRITIC' -> (generator architecture, critic architecture)."""
    parts = str(architecture).split("/")
    if len(parts) not in (1, 2) or any(p not in models.ARCHITECTURES for p in parts):
        raise ValueError(f"architecture must be NAME or GENERATOR/CRITIC with names in "
                         f"{', '.join(models.ARCHITECTURES)}, got {architecture!r}")
    return parts[0], parts[-1]


def _validated(config: TrainConfig) -> dict:
    """The normalised values of every field; ValueError naming the first bad one."""
    from bwgan_tf import data  # the data package imports TensorFlow's input pipeline; loaded on first use
    v = dataclasses.asdict(config)
    for name, minimum in (("n_critic", 1), ("batch_size", 1), ("steps", 1), ("latent_dim", 1),
                          ("checkpoint_every", 1), ("keep_checkpoints", 1), ("sample_every", 0), ("log_every", 1),
                          ("eval_every", 0), ("eval_num_samples", 2), ("seed", 0),
                          ("collective_timeout", 1)):
        v[name] = checks.integer(v[name], name, minimum)
    for name in ("width", "image_size", "generator_batch_size"):
        if v[name] is not None:
            v[name] = checks.integer(v[name], name, 1)
    if v["generator_batch_size"] is not None and v["generator_batch_size"] % v["batch_size"]:
        raise ValueError(f"generator_batch_size must be a multiple of batch_size {v['batch_size']}, got "
                         f"{v['generator_batch_size']}")
    checks.one_of(v["lipschitz"], "lipschitz", lipschitz.STRATEGIES)
    checks.one_of(v["strategy"], "strategy", STRATEGIES)
    checks.one_of(v["train_split"], "train_split", ("train", "all"))
    checks.one_of(v["gamma_rule"], "gamma_rule", parameters.GAMMA_RULES)
    checks.one_of(v["drift_mode"], "drift_mode", gan_lib.DRIFT_MODES)
    try:
        v["space"] = str(spaces.parse(v["space"]))
    except ValueError as error:
        raise ValueError(f"space: {error}") from None
    try:
        data.sample_shape(v["dataset"], v["image_size"])
        v["dataset"] = data.absolute(v["dataset"])  # a run directory works from any working directory
    except ValueError as error:
        raise ValueError(f"dataset: {error}") from None
    if v["data_dir"] is not None:
        v["data_dir"] = os.path.abspath(v["data_dir"])
    v["lam"] = checks.number_or_auto(v["lam"], "lam")
    v["gamma"] = checks.number_or_auto(v["gamma"], "gamma", positive=True)
    v["clip"] = checks.number(v["clip"], "clip", positive=True)
    v["drift"] = checks.number(v["drift"], "drift", non_negative=True)
    if v["lr"] is not None:
        v["lr"] = checks.number(v["lr"], "lr", positive=True)
    for name in ("adam_beta1", "adam_beta2"):
        v[name] = checks.number(v[name], name, non_negative=True)
        if v[name] >= 1:
            raise ValueError(f"{name} must be in [0, 1), got {v[name]}")
    v["ema_decay"] = checks.number(v["ema_decay"], "ema_decay", non_negative=True)
    if v["ema_decay"] >= 1:
        raise ValueError(f"ema_decay must be in [0, 1), got {v['ema_decay']}")
    for name in ("one_sided", "lr_decay", "generator_batch_norm", "flip", "dequantize", "scale_critic_output"):
        v[name] = checks.boolean(v[name], name)
    for name in ("xla", "mixed_precision"):
        v[name] = checks.boolean(v[name], name, allow_auto=True)
    split_architecture(v["architecture"])
    if v["critic_normalization"] in ("", "none", "None"):
        v["critic_normalization"] = None
    if v["critic_normalization"] is not None:
        checks.one_of(v["critic_normalization"], "critic_normalization", ("none", "layer", "batch"))
    strategy = lipschitz.STRATEGIES[v["lipschitz"]]
    if v["critic_normalization"] == "batch" and not strategy.allows_batch_norm:
        allowed = ", ".join(name for name, s in lipschitz.STRATEGIES.items() if s.allows_batch_norm)
        raise ValueError(f"critic_normalization: batch norm in the critic is only allowed with {allowed}: a "
                         "penalty on per-sample gradients assumes samples are scored independently")
    _check_critic_schedule(v, strategy)
    if v["eval_every"]:
        from bwgan_tf.train import evaluation  # the metrics; only needed when evaluating
        evaluation.check_metrics(v["eval_metrics"])
    return v


def _check_critic_schedule(v: dict, strategy) -> None:
    checks.one_of(v["critic_schedule"], "critic_schedule", critic_schedule.SCHEDULES)
    if v["critic_schedule"] == "constant":
        return
    if v["strategy"] != "default":
        raise ValueError("critic_schedule: wgan varies the critic batches per generator step, which this package "
                         "splits over one device only; use strategy default")
    if v["lr_decay"] and not strategy.constant_rate:
        raise ValueError("critic_schedule: wgan needs a constant learning rate (lr_decay false): the critic's decay "
                         "counts n_critic updates per generator step")


# ------------------------------------------------------------------------------------------------ absl flags
def _flag_type(annotation) -> type:
    """The absl flag type of a field: int, float, bool or str (unions of types are strings)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is Union:
        return args[0] if len(args) == 1 else str
    return annotation


def define_flags(flag_values=None, skip=()) -> None:
    """Defines one absl flag per TrainConfig field (same name, default and help)."""
    from absl import flags
    flag_values = flag_values or flags.FLAGS
    define = {int: flags.DEFINE_integer, float: flags.DEFINE_float, bool: flags.DEFINE_boolean,
              str: flags.DEFINE_string}
    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
        if field.name in skip:
            continue
        default, help_text, choices = field.default, field.metadata["help"], field.metadata["choices"]
        if choices is not None:
            flags.DEFINE_enum(field.name, default, list(choices()), help_text, flag_values=flag_values)
        else:
            kind = _flag_type(hints[field.name])
            define[kind](field.name, None if default is None else (str(default) if kind is str else default),
                         help_text, flag_values=flag_values)


def given_flags(flag_values=None) -> dict:
    """{name: value} of the TrainConfig flags given on the command line."""
    from absl import flags
    flag_values = flag_values or flags.FLAGS
    return {name: flag_values[name].value for name in names() if name in flag_values and flag_values[name].present}
