"""Run-level workflows, above training and the metrics: what a researcher does with runs and their generators.

  generators  open a run directory (its EMA generator; an SGDR phase's ensemble) or an export as a generator
  export      the generator as a SavedModel with serving signatures
  samples     images of a generator: grids, .npz files, one PNG per seed, interpolation strips
  scoring     the metrics of any image set (a data spec, a run, an export) against any other
  ensemble    several generators as one (the Table 4 protocol)
  restarts    the SGDR phase after a finished run, and its snapshots as an ensemble
  table4      the Table 4 protocol in one call: main run, SGDR ensemble, 50k-sample scores
  sweep       one row per run and its last evaluation; the sweep plot against s or p; training curves
  studies     the studies' runs and FID protocols (data)
  seeds       statistics over seeds: mean, std and 95% interval per configuration, curves with seed bands
  study       several runs differing in the Banach space and seed: FID over training, tables, plots, exports
  demo        the README's first command: a Banach WGAN on 8 Gaussians judged by exact transport

Import the module you need (`from bwgan_tf.runs import study`); this package imports none of them eagerly.
"""

__all__ = ["demo", "ensemble", "export", "generators", "restarts", "samples", "scoring", "seeds", "studies", "study",
           "sweep", "table4"]
