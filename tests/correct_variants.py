"""Correct variants of the mock: each makes another choice that the rules leave free (decisions.md P1-P6, and a
profile's booking window), and the whole contract suite, schemathesis included, must pass against it. They
prove the suite fair the way the broken variants prove it strong.
"""

from .variants import SPEC, WHOLE_SUITE, Mutation, Variant

APP, ERRORS, VALIDATION = "mock_server.app", "mock_server.errors", "mock_server.validation"
COURTS, BOOKINGS = "mock_server.wingfield.rules.courts", "mock_server.wingfield.rules.bookings"
SIGNED = "mock_server.onlive.rules.authentication"
SERVICES, APPOINTMENTS = "mock_server.onlive.rules.services", "mock_server.onlive.rules.appointments"
CALENDARS = "mock_server.onlive.rules.calendars"
USERS, RELATIONS = "mock_server.wingfield.rules.users", "mock_server.wingfield.rules.user_relations"
SESSIONS = "mock_server.wingfield.rules.sessions"
PLAIN_405 = (
    '            return ConnexionResponse(status_code=405, body=f"{request.method} not allowed\\n", '
    'content_type="text/plain", headers=headers)\n'
)


def correct(*mutations: Mutation, profile: dict | None = None) -> Variant:
    return Variant(frozenset(), mutations, suite=WHOLE_SUITE, profile=profile or {})


VARIANTS: dict[str, Variant] = {
    # P1: a smaller limit, answered 413 with a plain-text body (no envelope), in both APIs.
    "oversize-body-is-413-plain-text": correct(
        Mutation(VALIDATION, "MAX_BODY_BYTES = 64 * 1024", "MAX_BODY_BYTES = 16 * 1024"),
        Mutation(
            VALIDATION,
            "            raise _schema_problem("
            '[{"path": ["body"], "message": f"the body exceeds {limit} bytes"}])\n'
            "        chunks.append(chunk)",
            '            raise HTTPException(413, "Payload Too Large")\n        chunks.append(chunk)',
        ),
        Mutation(
            VALIDATION,
            "            if int(declared) > self.limit:\n"
            "                raise _schema_problem("
            '[{"path": ["body"], "message": f"the body exceeds {self.limit} bytes"}])',
            '            if int(declared) > self.limit:\n                raise HTTPException(413, "Payload Too Large")',
        ),
        Mutation(
            VALIDATION,
            "from starlette.datastructures import Headers",
            "from starlette.datastructures import Headers\nfrom starlette.exceptions import HTTPException",
        ),
        Mutation(
            ERRORS,
            "        if exc.status_code == 405:\n",
            "        if exc.status_code == 413:\n"
            "            return ConnexionResponse("
            '            status_code=413, body="Payload Too Large\\n", content_type="text/plain")\n'
            "        if exc.status_code == 405:\n",
        ),
    ),
    # P2: unknown query parameters ignored, in both APIs.
    "unknown-query-parameters-ignored": correct(
        Mutation(
            APP,
            "        resolver=runtime.resolve,\n        strict_validation=True,",
            "        resolver=runtime.resolve,\n        strict_validation=False,",
        ),
    ),
    # P3: the canonical request of a wrong signature in a response header, newlines escaped ...
    "canonical-request-in-a-header": correct(
        Mutation(
            ERRORS,
            "        body.update(violation.extra or {})\n        return _json(status, body, headers)",
            "        headers = {**(headers or {}), **{\n"
            "            'X-Canonical-Request': value.replace('\\n', '\\\\n')"
            " for value in (violation.extra or {}).values()}}\n"
            "        return _json(status, body, headers)",
        ),
    ),
    # ... and not shown at all.
    "canonical-request-absent": correct(
        Mutation(
            SIGNED,
            'extra = {"canonicalRequest": canonical_request} if canonical_request is not None else None',
            "extra = None",
        ),
    ),
    # P4: other list orders (reversed) for court mappings, facility courts and every ONLIVE list.
    "other-list-orders": correct(
        Mutation(
            COURTS,
            "return sorted(visible, key=lambda m: (m.external_court_id, m.court_id))",
            "return sorted(visible, key=lambda m: (m.external_court_id, m.court_id), reverse=True)",
        ),
        Mutation(
            COURTS,
            "courts = sorted(self.store.courts_of_facility(facility_id), key=lambda c: (c.name, c.id))",
            "courts = sorted(self.store.courts_of_facility(facility_id), key=lambda c: (c.name, c.id), reverse=True)",
        ),
        Mutation(SERVICES, "        return matches\n", "        return matches[::-1]\n"),
        Mutation(
            APPOINTMENTS,
            "return sorted(found, key=lambda a: (a.start, a.id))",
            "return sorted(found, key=lambda a: (a.start, a.id), reverse=True)",
        ),
        Mutation(
            CALENDARS,
            'return sorted(found, key=lambda c: (c.fields.get("name") or "", c.id))',
            'return sorted(found, key=lambda c: (c.fields.get("name") or "", c.id), reverse=True)',
        ),
        Mutation(USERS, "        return found\n", "        return found[::-1]\n"),
        Mutation(
            RELATIONS,
            "            for relation in self.store.user_relations(service_id)\n",
            "            for relation in self.store.user_relations(service_id)[::-1]\n",
        ),
        Mutation(
            SESSIONS,
            "        return [v for v in self.store.videos_of_session(session_id)",
            "        return [v for v in self.store.videos_of_session(session_id)[::-1]",
        ),
    ),
    # P5: no upper bound on the ONLIVE page, and an empty or non-UUID userGroupId filter taken as no filter.
    "lenient-onlive-bounds": correct(
        Mutation(SPEC, "        minimum: 1\n        maximum: 100000\n", "        minimum: 1\n"),
        Mutation(
            SPEC,
            "      description: Exact user group.\n      schema:\n        type: string\n        format: uuid\n"
            "        x-undocumented-constraints: [format]\n",
            "      description: Exact user group.\n      schema:\n        type: string\n",
        ),
        Mutation(
            SERVICES,
            "if any(filters.get(k) is not None and f.get(k) != filters[k]",
            "if any(filters.get(k) and f.get(k) != filters[k]",
        ),
    ),
    # P6: 405 with `Allow` and a plain-text body.
    "plain-text-405": correct(
        Mutation(
            ERRORS,
            '            violation = RuleViolation("method_not_allowed", f"{request.method} is not allowed here")\n'
            "            return render(request, violation, 405, headers)\n",
            PLAIN_405,
        ),
    ),
    # A booking window: nothing can be booked from 2040 on; the profile tells the suite where to book.
    "no-bookings-from-2040-on": correct(
        Mutation(
            BOOKINGS,
            '            raise RuleViolation("invalid_time_range", "startDate must be strictly before endDate")\n',
            '            raise RuleViolation("invalid_time_range", "startDate must be strictly before endDate")\n'
            "        if end.year >= 2040:\n"
            '            raise RuleViolation("invalid_time_range", "bookings are taken up to 2039 only")\n',
        ),
        profile={"wingfield": {"booking_window": {"from": "2030-01-01T00:00:00Z", "to": "2040-01-01T00:00:00Z"}}},
    ),
}
