"""The papers' experiments as presets: each states only what differs from TrainConfig's defaults
(train.config.make_config applies one).

TrainConfig's defaults are the CIFAR-10 set-up of Adler & Lunz 2018 (ResNet of appendix B, z of 128, 5 critic
steps per generator step, batch 64, 100k generator steps, Adam 2e-4 decayed linearly to 0, drift 1e-5, EMA).
"""
# Both official codes (adler-j/bwgan, gan_cifar_resnet.py) draw 2 x 64 = 128 latent vectors per generator step.
_PAPER = dict(lr=2e-4, generator_batch_size=128)
# adler-j/bwgan's input: every image of the data set (60k for CIFAR-10), random horizontal flips, dequantisation.
_BWGAN_DATA = dict(_PAPER, train_split="all", flip=True, dequantize=True)
# gan_cifar_resnet.py (WGAN-GP): the 50k train images, dequantised, no drift term, no EMA (ema_decay 0: the EMA
# generator is the generator).
_WGAN_GP_CIFAR = dict(_PAPER, space="l2", lam=10.0, gamma=1.0, dequantize=True, drift=0.0, ema_decay=0.0)
# Arjovsky et al. Algorithm 1 and the official main.py: no drift term, no weight average (ema_decay 0: the EMA
# generator is the generator), RMSProp 5e-5 at a constant rate, 100 critic iterations for the first 25 generator
# iterations and every 500th.
_LSUN_WGAN = dict(dataset="lsun_bedroom", image_size=64, lipschitz="weight_clipping", clip=0.01, latent_dim=100,
                  critic_normalization="batch", lr=5e-5, lr_decay=False, drift=0.0, ema_decay=0.0,
                  critic_schedule="wgan")
# gan_toy.py (Gulrajani et al.): 3 x 512 ReLU MLPs, LAMBDA = .1, Adam(1e-4, beta1 0.5, beta2 0.9), batch 256,
# 5 critic iterations, constant rate; its generator has 2-D noise (latent_dim 2 here).
_TOY = dict(architecture="toy_mlp", width=512, latent_dim=2, space="l2", lam=0.1, gamma=1.0, batch_size=256,
            lr=1e-4, adam_beta1=0.5, adam_beta2=0.9, lr_decay=False, xla=True)
# The README's demo: measured on this CPU to cover 8 of 8 modes in 4,000 steps (BUILD_NOTES.md); gan_toy.py's
# settings are tuned for 100k iterations.
_DEMO = dict(_TOY, dataset="toy:8gaussians", width=256, lam=10.0, adam_beta1=0.0, lr=5e-4, ema_decay=0.99)

PRESETS = {
    # name               paper (result)                          what differs from the defaults
    "cifar10_l10":       dict(_BWGAN_DATA, space="lp:p=10"),                    # Adler & Lunz: IS 8.31
    "cifar10_sobolev":   dict(_BWGAN_DATA, space="sobolev:s=-1.5,p=2,c=5"),     # Adler & Lunz: IS 8.26
    "cifar10_wgan_gp":   _WGAN_GP_CIFAR,                                         # Gulrajani et al.: IS 7.86
    "celeba_sobolev":    dict(_BWGAN_DATA, dataset="celeb_a:crop=official",      # Adler & Lunz CelebA 64x64,
                              image_size=64, space="sobolev:s=-1.5,p=2,c=5"),    # the official loader
    "lsun_wgan":         dict(_LSUN_WGAN, architecture="dcgan", width=64),       # Arjovsky et al. Algorithm 1
    "lsun_wgan_mlp":     dict(_LSUN_WGAN, architecture="mlp/dcgan"),             # Arjovsky et al. Fig. 8
    "toy_8gaussians":    dict(_TOY, dataset="toy:8gaussians"),                   # Gulrajani et al. gan_toy.py
    "toy_25gaussians":   dict(_TOY, dataset="toy:25gaussians"),
    "toy_swissroll":     dict(_TOY, dataset="toy:swissroll"),
    "demo_8gaussians":   _DEMO,                                                  # make demo (not a paper's)
}

