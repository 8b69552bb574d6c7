"""FHIR R4 (4.0.1) at /fhir: the SDOH Clinical Care exchange (docs/fhir.md).

The mapping modules (``map_*``) render the same rows the web UI and /api/v1 use; the
services (``reading``, ``searching``, ``creating``, ``task_update``) go through the referral
services and the policy; ``views`` is the thin blueprint.
"""
