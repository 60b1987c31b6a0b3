"""What this server tells clients about itself: spec versions and discovery."""

# Spec versions whose required parts this server implements. A version is listed only once
# everything it requires of a homeserver works here (see docs/conformance.md).
SUPPORTED_VERSIONS = ["v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9",
                      "v1.10", "v1.11", "v1.12"]

# Unstable features honestly supported (flags clients check before using an MSC's endpoints).
UNSTABLE_FEATURES: dict[str, bool] = {
    # Simplified Sliding Sync (MSC4186), POST /unstable/org.matrix.simplified_msc3575/sync.
    "org.matrix.simplified_msc3575": True,
}


def versions() -> dict:
    return {"versions": list(SUPPORTED_VERSIONS), "unstable_features": dict(UNSTABLE_FEATURES)}


def well_known_client(base_url: str) -> dict:
    return {"m.homeserver": {"base_url": base_url}}
