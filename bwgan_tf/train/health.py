"""Critic health: is the critic still measuring a distance, and if not, which term of its loss holds it?

The critic loss of eq. 8 (Adler & Lunz 2018) has three terms: the Wasserstein term -W/gamma (W = E D(real) -
E D(fake)), the penalty and the drift term. At each log step the trainer records, beside them:

  w_over_gamma          W / gamma, the critic's estimate of the distance in units of the 1-Lipschitz critic
  grad_norm_over_gamma  mean ||dD||_* / gamma at the interpolates: 1 when the penalty is met
  drift_share           drift / (|W/gamma| + penalty + drift): the drift term's share of the loss's magnitude
  penalty_share         penalty / (|W/gamma| + penalty + drift)

Written for f = D / gamma, the paper's drift term 1e-5 E D(real)^2 is 1e-5 gamma^2 E f(real)^2: about 3.6 for
L^10 at the section 3.2 gamma of 600. It then pulls the critic towards 0 harder than the Wasserstein term pushes
it apart, and the generator gets no signal. DriftWatch says so once when that lasts.
"""
from typing import Optional

HEALTH_KEYS = ("w_over_gamma", "grad_norm_over_gamma", "drift_share", "penalty_share")
PATIENCE = 5  # consecutive log steps with the drift term above the Wasserstein term before the warning


def critic_health(scalars: dict) -> dict:
    """The health values (HEALTH_KEYS) of one step's scalars (wasserstein is already W / gamma); {} when the step
    has no critic terms."""
    if not {"wasserstein", "penalty", "drift", "grad_norm", "gamma"} <= set(scalars):
        return {}
    wasserstein, penalty, drift = abs(scalars["wasserstein"]), abs(scalars["penalty"]), abs(scalars["drift"])
    total = wasserstein + penalty + drift
    return {"w_over_gamma": scalars["wasserstein"], "grad_norm_over_gamma": scalars["grad_norm"] / scalars["gamma"],
            "drift_share": drift / total if total > 0 else 0.0, "penalty_share": penalty / total if total > 0 else 0.0}


class DriftWatch:
    """Watches the log steps' scalars; returns one warning (once per run) when the drift term has outweighed the
    Wasserstein term |W / gamma| at `patience` consecutive log steps."""

    def __init__(self, drift: float, drift_mode: str, patience: int = PATIENCE):
        self.drift, self.drift_mode, self.patience = drift, drift_mode, patience
        self.since, self.count, self.warned = None, 0, False

    def update(self, step: int, scalars: dict) -> Optional[str]:
        if self.warned or not {"wasserstein", "drift", "gamma"} <= set(scalars):
            return None
        if abs(scalars["drift"]) > abs(scalars["wasserstein"]):
            self.since = self.since if self.count else step
            self.count += 1
        else:
            self.count = 0
        if self.count < self.patience:
            return None
        self.warned = True
        gamma = scalars["gamma"]
        if self.drift_mode == "paper":
            cause = (f"with drift_mode paper the term {self.drift:g} E D(real)^2 weighs {self.drift:g} gamma^2 = "
                     f"{self.drift * gamma ** 2:.3g} on the normalised critic D/gamma (gamma {gamma:.4g}); try "
                     f"--drift_mode=normalized (the same {self.drift:g} on D/gamma) or --drift=0")
        else:
            cause = f"try a smaller --drift than {self.drift:g}"
        return (f"critic health: since generator step {self.since} the drift term ({scalars['drift']:.3g}) has "
                f"outweighed the Wasserstein term |W/gamma| ({abs(scalars['wasserstein']):.3g}) at {self.count} log "
                f"steps in a row, so it holds the critic near 0 and the generator gets little signal; {cause}")
