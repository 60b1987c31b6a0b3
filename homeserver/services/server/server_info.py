"""What this server tells clients about itself: spec versions and discovery."""

# Spec versions whose required parts this server implements. A version is listed only once
# everything it requires of a homeserver works here (see docs/conformance.md).
# The r0 releases are listed as Synapse lists them: every r0 endpoint this server routes is
# served at the r0 prefix too (api/r0_prefix.py), the deprecated v1 sync APIs r0 still had
# included (GET /events, /initialSync), and old clients look for an r0 version before using
# it. v1.1 is r0.6.1 renamed plus additions, so what r0 requires is what v1.1 requires.
SUPPORTED_VERSIONS = ["r0.0.1", "r0.1.0", "r0.2.0", "r0.3.0", "r0.4.0", "r0.5.0", "r0.6.0",
                      "r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8",
                      "v1.9", "v1.10", "v1.11", "v1.12"]

# Unstable features honestly supported (flags clients check before using an MSC's endpoints).
UNSTABLE_FEATURES: dict[str, bool] = {
    # Simplified Sliding Sync (MSC4186), POST /unstable/org.matrix.simplified_msc3575/sync.
    "org.matrix.simplified_msc3575": True,
}


def versions() -> dict:
    return {"versions": list(SUPPORTED_VERSIONS), "unstable_features": dict(UNSTABLE_FEATURES)}


def well_known_client(base_url: str) -> dict:
    return {"m.homeserver": {"base_url": base_url}}
