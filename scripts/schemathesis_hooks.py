"""Hooks for ./scripts/test-api.

Schemathesis draws Idempotency-Key values from a small space, so two
different generated bodies often share a key; the server then answers 422
as the API contract says (same key, different body), which schemathesis
counts as a valid request refused. A valid key is therefore replaced by a
fresh one per request; invalid keys are left as generated, so the negative
checks still see them refused. The key's stateful semantics are tested by
the Swift suites (GatewayTests, AnalysisStoreServiceTests).
"""
import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(context, case, kwargs):
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.match(key):
        case.headers["Idempotency-Key"] = f"st-{uuid.uuid4()}"
