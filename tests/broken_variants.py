"""Deliberately broken variants of the mock, to prove that the contract suite can fail: each breaks one rule,
and the suite's tests of that rule (and only of it, or of declared related rules) must fail against it."""

from .variants import SCENARIOS, SPEC, WORLD, Mutation, Variant, variant

BOOKINGS, STORE, ACCESS = (
    "mock_server.wingfield.rules.bookings",
    "mock_server.wingfield.store.memory",
    "mock_server.wingfield.rules.access",
)
VALIDATION = "mock_server.validation"
COURTS, REPRESENTATIONS, ERRORS = (
    "mock_server.wingfield.rules.courts",
    "mock_server.wingfield.handlers.representations",
    "mock_server.errors",
)
SERVICES, SIGNED = "mock_server.onlive.rules.services", "mock_server.onlive.rules.authentication"
USERS, RELATIONS = "mock_server.wingfield.rules.users", "mock_server.wingfield.rules.user_relations"
ORGANIZATIONS, SESSIONS = "mock_server.wingfield.rules.organizations", "mock_server.wingfield.rules.sessions"
PEOPLE = "mock_server.wingfield.handlers.people"

# A variant's admin API answers this token, and its target profile names it (wingfield.control): the suite then
# answers relation requests (R8) and issues a fresh connect token for every claim (G1-G4), as against the bundled
# mock. Without it the tests that need control are skipped and claims use the world's one claimable token.
CONTROL_TOKEN = "broken-variant-admin-token"
KNOWN_ADMIN_TOKEN = Mutation(
    "mock_server.app",
    "runtime.admin_token = admin_token or secrets.token_urlsafe(18)",
    f"runtime.admin_token = admin_token or {CONTROL_TOKEN!r}",
)


def controlled(breaks: str, *mutations: Mutation, also: str = "") -> Variant:
    control = {"url": "/__admin", "token": CONTROL_TOKEN}
    return Variant(
        frozenset(breaks.split()),
        (*mutations, KNOWN_ADMIN_TOKEN),
        frozenset(also.split()),
        SCENARIOS,
        {"wingfield": {"control": control}},
    )


VARIANTS: dict[str, Variant] = {
    "older-upsert-accepted": variant(
        "B2",
        Mutation(BOOKINGS, "            if version < stored.external_updated_at:\n", "            if False:\n"),
        also="B6 A4",
    ),
    "idempotent-repeat-moves-updated-at": variant(
        "B3",
        Mutation(
            BOOKINGS,
            "                    return stored  # B3: idempotent repeat, nothing changes\n",
            "                    stored = __import__('dataclasses').replace(\n"
            "                        stored, updated_at=self.clock.now_after(stored.updated_at)\n"
            "                    )\n"
            "                    self.store.put_booking(stored)\n"
            "                    return stored\n",
        ),
        also="B6 B7",
    ),
    "changed-payload-at-same-version-accepted": variant(
        "B4",
        Mutation(
            BOOKINGS,
            '                raise RuleViolation("version_conflict",',
            '                pass  # ("version_conflict",',
        ),
        also="B6 B7",
    ),
    "replace-resets-created-at": variant(
        "B5",
        Mutation(
            BOOKINGS,
            "created_at, updated_at, seq = stored.created_at,",
            "created_at, updated_at, seq = self.clock.now(),",
        ),
    ),
    "five-participants-accepted": variant(
        "B8", Mutation(SPEC, "maxItems: 4\n          uniqueItems: true", "maxItems: 5\n          uniqueItems: true")
    ),
    "both-user-id-and-email-accepted": variant(
        "B9",
        Mutation(
            SPEC, "maxProperties: 1\n      description: Exactly one", "maxProperties: 2\n      description: Exactly one"
        ),
        Mutation(BOOKINGS, "if (user_id is None) == (email is None):", "if user_id is None and email is None:"),
    ),
    "duplicate-participants-accepted": variant(
        "B10",
        Mutation(SPEC, "uniqueItems: true\n          x-error-types:", "uniqueItems: false\n          x-error-types:"),
        Mutation(BOOKINGS, "    if len(set(participants)) != len(participants):", "    if False:"),
    ),
    "emails-not-lowercased": variant(
        "B11", Mutation(BOOKINGS, "Participant(email=email.lower())", "Participant(email=email)"), also="B7 B10 B25"
    ),
    "start-equal-to-end-accepted": variant("B12", Mutation(BOOKINGS, "if not start < end:", "if start > end:")),
    "touching-bookings-refused": variant(
        "B13",
        Mutation(
            STORE,
            "return candidate if candidate.end_us > start_us else None",
            "return candidate if candidate.end_us >= start_us else None",
        ),
        Mutation(WORLD, 'startDate: "2020-03-02T11:00:00Z"', 'startDate: "2020-03-02T11:30:00Z"'),  # seeds touch
    ),
    "overlaps-not-checked": variant(
        "B13",
        Mutation(
            STORE,
            "        index = self._court_starts.get(court_id)\n        if not index:",
            "        index = None\n        if not index:",
        ),
        also="B14 A4",
    ),
    "delete-of-missing-booking-is-404": variant(
        "B17",
        Mutation(
            BOOKINGS,
            "        if isinstance(stored, Booking) and version < stored.external_updated_at:\n",
            '        if stored is None:\n            raise RuleViolation("court_not_found", "no such booking")\n'
            "        if isinstance(stored, Booking) and version < stored.external_updated_at:\n",
        ),
        also="B21 B27",
    ),
    "older-delete-accepted": variant(
        "B18",
        Mutation(
            BOOKINGS,
            "        if isinstance(stored, Booking) and version < stored.external_updated_at:\n",
            "        if False:\n",
        ),
    ),
    "repeated-delete-is-stale": variant(
        "B19",
        Mutation(
            BOOKINGS,
            "            return  # B19: a repeat; the tombstone keeps the newest delete\n",
            '            raise RuleViolation("stale_write", "already deleted")\n',
        ),
    ),
    "deleted-booking-stays-in-list": variant(
        "B20",
        Mutation(
            STORE,
            "        self._unindex(key)\n        self._records[key] = tombstone\n",
            "        old = self._records.get(key)\n        self._unindex(key)\n"
            "        if isinstance(old, Booking):\n"
            "            self._lists.setdefault((old.service_id,), SortedKeyList(key=_list_order)).add(old)\n"
            "        self._records[key] = tombstone\n",
        ),
        also="B21 B23 B24 B25",
    ),
    "tombstone-ignored": variant(
        "B21",
        Mutation(
            BOOKINGS,
            "        if isinstance(stored, Tombstone) and version <= stored.external_updated_at:\n            raise",
            "        if False:\n            raise",
        ),
    ),
    "list-sorted-ascending": variant(
        "B23",
        Mutation(
            STORE,
            "    return _key(-booking.updated_us, booking.seq)",
            "    return _key(booking.updated_us, booking.seq)",
        ),
        also="B24 B25",
    ),
    "other-service-reads-bookings": variant(
        "B27",
        Mutation(
            "mock_server.wingfield.gate", "            require_own_service(token, path_service)", "            pass"
        ),
        Mutation(
            "mock_server.wingfield.handlers.court_bookings",
            "self.bookings.get(user, externalCourtBookingId)",
            "self.bookings.get(externalServiceId, externalCourtBookingId)",
        ),
        also="A4",
    ),
    "expired-token-accepted": variant(
        "A1", Mutation(ACCESS, "    if token.expires_at is not None and token.expires_at <= now:", "    if False:")
    ),
    "read-level-may-write": variant(
        "A2", Mutation(ACCESS, "    if LEVELS[held] < LEVELS[level]:", '    if held == "none":'), also="A3 A4"
    ),
    "court-mapping-always-null": variant(
        "C1",
        Mutation(
            REPRESENTATIONS,
            '        "mapping": None\n        if mapping is None',
            '        "mapping": None\n        if True',
        ),
        also="M5",
    ),
    "unrelated-court-readable": variant(
        "C2",
        Mutation(
            COURTS,
            "        court = accessible_court(self.store, service_id, court_id)\n"
            "        return court, self._facility(court)",
            "        court = self.store.court(court_id)\n        if court is None:\n"
            '            raise RuleViolation("court_not_found", "no such court")\n'
            "        return court, self._facility(court)",
        ),
        also="G4",  # after the relation is deleted, its courts are denied again (read like C2's)
    ),
    "unrelated-facility-listed": variant(
        "C3",
        Mutation(
            COURTS,
            "        if not self.store.has_organization_relation(service_id, facility.organization_id):",
            "        if False:",
        ),
    ),
    "mapping-replace-resets-created-at": variant(
        "M1", Mutation(COURTS, "created_at = stored.created_at if stored else now", "created_at = now")
    ),
    "external-court-id-reused": variant(
        "M2", Mutation(COURTS, "if taken is not None and taken.court_id != court_id:", "if False:"), also="M6"
    ),
    "delete-of-missing-mapping-is-404": variant(
        "M3",
        Mutation(
            COURTS,
            "        accessible_court(self.store, service_id, court_id)\n"
            "        self.store.delete_mapping(service_id, court_id)",
            "        accessible_court(self.store, service_id, court_id)\n"
            "        if self.store.mapping(service_id, court_id) is None:\n"
            '            raise RuleViolation("court_mapping_not_found", "no mapping")\n'
            "        self.store.delete_mapping(service_id, court_id)",
        ),
        also="C1",
    ),
    "unmapped-court-is-court-not-found": variant(
        "M4",
        Mutation(COURTS, 'raise RuleViolation("court_mapping_not_found",', 'raise RuleViolation("court_not_found",'),
    ),
    "facility-courts-show-no-mapping": variant(
        "M5",
        Mutation(
            COURTS,
            "return facility, [(court, self.store.mapping(service_id, court.id)) for court in courts]",
            "return facility, [(court, None) for court in courts]",
        ),
        also="C3",
    ),
    "mapping-filter-matches-prefixes": variant(
        "M6",
        Mutation(
            COURTS,
            "            found = self.store.mapping_by_external_id(service_id, external_court_id)\n"
            "            candidates = [found] if found else []",
            "            candidates = [m for m in self.store.mappings(service_id)"
            " if m.external_court_id.startswith(external_court_id)]",
        ),
    ),
    # Users (U1-U5), user relations (R1-R8), organizations (G1-G5), sessions (S1-S3).
    "created-user-relation-pending": variant(
        "U1",
        Mutation(
            USERS,
            'UserRelation(service_id, user.id, external_user_id, "ACCEPTED")',
            'UserRelation(service_id, user.id, external_user_id, "PENDING")',
        ),
        also="R4 R7",
    ),
    "created-user-email-kept-as-sent": variant(
        "U1",
        Mutation(
            USERS,
            'email, external_user_id = body["email"].lower(), body["externalUserId"]',
            'email, external_user_id = body["email"], body["externalUserId"]',
        ),
        also="U2",
    ),
    "email-of-another-user-accepted": variant(
        "U2",
        Mutation(
            USERS,
            "        if self.store.user_by_email(email) is not None:\n",
            "        if False:\n",
        ),
    ),
    "invisible-user-readable": variant(
        "U3",
        Mutation(
            USERS,
            '            raise RuleViolation("user_not_found", f"user {user_id} does not exist")\n'
            "        if not visible_user(self.store, service_id, user_id):",
            '            raise RuleViolation("user_not_found", f"user {user_id} does not exist")\n        if False:',
        ),
        also="R6 R8",
    ),
    "unmanaged-user-patchable": variant(
        "U4", Mutation(USERS, "        if user.created_by_service_id != service_id:", "        if False:")
    ),
    "user-list-holds-every-relation": variant(
        "U5",
        Mutation(
            USERS,
            "            if visible_user(self.store, service_id, relation.user_id):",
            "            if True:",
        ),
    ),
    "requested-relation-accepted-at-once": variant(
        "R1",
        Mutation(
            RELATIONS,
            'relation = UserRelation(service_id, user.id, external_user_id, "PENDING")',
            'relation = UserRelation(service_id, user.id, external_user_id, "ACCEPTED")',
        ),
        also="R2 R4 R7 R8",
    ),
    "repeat-with-another-external-user-id-accepted": variant(
        "R2",
        Mutation(
            RELATIONS,
            "        if existing is not None and existing.external_user_id != external_user_id:",
            "        if False:",
        ),
    ),
    "external-user-id-of-another-user-reused": variant(
        "R3", Mutation(RELATIONS, "        if taken is not None and taken.user_id != user_id:", "        if False:")
    ),
    "accepted-relation-shows-no-user": variant(
        "R4",
        Mutation(
            PEOPLE,
            '"user": user_json(user) if user is not None and relation.status == "ACCEPTED" else None,',
            '"user": None,',
        ),
        also="R8",
    ),
    "relation-patch-not-stored": variant(
        "R5",
        Mutation(
            RELATIONS,
            "        self.store.put_user_relation(changed)\n        return changed",
            "        return changed",
        ),
    ),
    "relation-delete-idempotent": variant(
        "R6",
        Mutation(
            RELATIONS,
            "        self.get(service_id, user_id)\n        self.store.delete_user_relation(service_id, user_id)",
            "        self.store.delete_user_relation(service_id, user_id)",
        ),
    ),
    "created-user-visible-without-relation": variant(
        "R6",
        Mutation(
            ACCESS,
            '    if relation is None:\n        return False\n    if relation.status == "ACCEPTED":',
            '    if relation is not None and relation.status == "ACCEPTED":',
        ),
    ),
    "relation-status-filter-ignored": variant(
        "R7",
        Mutation(RELATIONS, "            and (status is None or relation.status == status)", "            and True"),
    ),
    "users-answer-ignored": controlled(
        "R8",
        Mutation(RELATIONS, "        if relation.status != status:\n", "        if False:\n"),
        also="R2",
    ),
    "expired-connect-token-claimable": controlled(
        "G1", Mutation(ORGANIZATIONS, "        if token.expires_at <= now:", "        if False:")
    ),
    "connect-token-form-loose": controlled(
        "G1",
        Mutation(
            ORGANIZATIONS,
            'CONNECT_TOKEN = re.compile(r"ct_[A-Za-z0-9_-]{32}")',
            'CONNECT_TOKEN = re.compile(r"ct_[A-Za-z0-9_-]{8,40}")',
        ),
    ),
    "claim-does-not-consume-the-token": controlled(
        "G2",
        Mutation(
            ORGANIZATIONS,
            '        self.store.put_connect_token(dataclasses.replace(token, state="CLAIMED"))\n',
            "",
        ),
    ),
    "external-organization-id-mismatch-ignored": controlled(
        "G2",
        Mutation(
            ORGANIZATIONS,
            "        if existing is not None and existing.external_organization_id != external_organization_id:",
            "        if False:",
        ),
    ),
    "claim-makes-no-relation": controlled(
        "G3",
        Mutation(
            ORGANIZATIONS,
            "        self.store.put_organization_relation(relation)\n        return relation",
            "        return relation",
        ),
        also="G2 G4",
    ),
    "organization-relation-delete-keeps-it": controlled(
        "G4",
        Mutation(
            ORGANIZATIONS,
            "        self.store.delete_organization_relation(service_id, organization_id)",
            "        pass",
        ),
        also="G5",
    ),
    "pro-quota-ignored": variant(
        "G5",
        Mutation(
            ORGANIZATIONS,
            "        if quota is not None and self.store.pro_member_count(organization_id) >= quota:",
            "        if False:",
        ),
    ),
    "invisible-user-subscribable": variant(
        "G5",
        Mutation(
            ORGANIZATIONS,
            "        if self.store.user(user_id) is None or not visible_user(self.store, service_id, user_id):",
            "        if self.store.user(user_id) is None:",
        ),
    ),
    "session-visible-with-one-visible-player": variant(
        "S1",
        Mutation(
            SESSIONS,
            "return all(visible_user(self.store, service_id, user_id) for user_id in session.player_ids)",
            "return any(visible_user(self.store, service_id, user_id) for user_id in session.player_ids)",
        ),
        also="S3",
    ),
    "sessions-oldest-first": variant(
        "S2",
        Mutation(
            SESSIONS,
            "found.sort(key=lambda s: s.started_at, reverse=True)",
            "found.sort(key=lambda s: s.started_at)",
        ),
    ),
    "videos-of-any-session": variant(
        "S3",
        Mutation(
            SESSIONS,
            "        self.get(service_id, session_id)\n        return [v for v in",
            "        return [v for v in",
        ),
    ),
    # P1, P3, P6: what no implementation may do where it is free.
    "oversize-body-is-500": variant(
        "P1",
        Mutation(
            VALIDATION,
            "            if int(declared) > self.limit:\n                raise _schema_problem(",
            "            if int(declared) > self.limit:\n                raise RuntimeError(",
        ),
    ),
    "canonical-request-leaks-the-secret": variant(
        "P3",
        Mutation(
            SIGNED,
            'raise refuse("signature mismatch", canonical)',
            'raise refuse("signature mismatch", canonical + key.secret)',
        ),
    ),
    "405-without-allow": variant(
        "P6",
        Mutation(
            ERRORS,
            '            headers["Allow"] = index.allow_header(request.url.path) or headers.get("Allow", "")',
            '            headers.pop("Allow", None)',
        ),
    ),
    "delete-answers-without-deleted-at": variant(
        "O1", Mutation(SERVICES, "        return deleted\n", "        return service\n")
    ),
    "active-appointments-ignored": variant(
        "O3",
        Mutation(
            SERVICES,
            "        if any(a.blocks_service_delete(now)",
            "        if False and any(a.blocks_service_delete(now)",
        ),
    ),
    "other-organizations-services-visible": variant(
        "O4", Mutation(SERVICES, " or service.organization_id != organization_id:", ":")
    ),
    "date-window-not-checked": variant(
        "O6", Mutation(SIGNED, "    if not signing.within_window(moment, now):", "    if False:")
    ),
    "signature-not-checked": variant(
        "O6",
        Mutation(SIGNED, "    if not hmac.compare_digest(", "    if False and not hmac.compare_digest("),
        also="P3",
    ),
    # The suite's schemathesis run, with its own checks: an error type the operation does not document (A5) ...
    "undocumented-error-type": variant(
        "schemathesis",
        Mutation(VALIDATION, 'RuleViolation("invalid_schema", "request', 'RuleViolation("validation_error", "request'),
        suite=("-m", "schemathesis", "-k", "wingfield"),
    ),
    # ... a documented constraint left unchecked (P5 spares only the spec's own: this one is in the docs) ...
    "court-filter-accepts-any-string": variant(
        "schemathesis",
        Mutation(
            SPEC,
            "      description: Exact match (B25).\n      schema:\n        type: string\n        format: uuid\n",
            "      description: Exact match (B25).\n      schema:\n        type: string\n",
        ),
        suite=("-m", "schemathesis", "-k", "wingfield"),
    ),
    # ... and a refused signature of the run's own (the mock's signer leaves the query string out).
    "signature-without-query": variant(
        "schemathesis",
        Mutation(
            SIGNED,
            "canonical_request(method, raw_path, raw_query, date",
            'canonical_request(method, raw_path, "", date',
        ),
        suite=("-m", "schemathesis", "-k", "onlive"),
    ),
}
