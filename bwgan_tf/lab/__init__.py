"""The research lab: exact optimal transport and Lipschitz diagnostics, not on the training path.

  ot               exact batch W_p with a Banach cost ||x - y||_B (the assignment problem; no Keras)
  pairs            pairs of distributions P, Q (2-D Gaussians, WGAN's parallel lines, CIFAR-10 halves or noise)
  estimation       Mallasto et al.'s protocol: how well a critic estimates W_1, per Lipschitz method
  spectral         l2 norms of convolutions by the DFT (Sedghi et al. 2019), power iteration, dense matrices
  lipschitz_bound  a layer-wise upper bound on a whole critic's Lipschitz constant, and a gradient lower bound

Import the module you need (`from bwgan_tf.lab import ot`); this package imports none of them eagerly, so
`bwgan_tf.lab.ot` does not build the Keras critics of `estimation`.
"""

__all__ = ["estimation", "lipschitz_bound", "ot", "pairs", "spectral"]
