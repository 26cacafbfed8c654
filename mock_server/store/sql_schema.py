"""The SQL store's tables and their migrations (SQLAlchemy Core), for SQLite and PostgreSQL alike.

The world: wf_organizations, wf_facilities, wf_courts, wf_services, wf_tokens, wf_sessions (and
wf_session_players, who played them), wf_videos, ol_organizations, ol_access_keys. The records the APIs change:
wf_users, wf_user_relations, wf_organization_relations, wf_connect_tokens, wf_memberships, wf_mappings,
court_records (bookings and tombstones), court_participants, ol_calendars, ol_services, ol_appointments. What
keeps requests cheap: court_counts (the lists' totals), court_keys (courts as integers, for PostgreSQL's
exclusion constraint), wf_mapping_services (the dump's grouping). The control plane: meta (control version,
seeded, SQLite's counters), control, journal, schema_version.

Instants are integer microseconds since the epoch (`*_us`): exact, and compared as the memory store's keys are.
Every table that a list or a dump reads in order has `pos`, assigned on first insert and kept by an upsert, so
SQL lists keep the memory store's insertion orders. Indexes on `court_records` are partial (active bookings
only: a tombstone has no court), so a list or an overlap check never walks tombstones.

Migrations are numbered; `migrate` runs the missing ones under a lock (PostgreSQL: an advisory lock; SQLite:
an immediate transaction), so several processes opening one database at once migrate it exactly once. A new
database gets the tables as they are declared here, at once; an older one gets what each later version added,
and ends up the same (a column a version adds goes last in its table, so even the column order is).
"""

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.schema import CreateColumn

from mock_server.timestamps import WORLD_INSTANT, to_micros

metadata = MetaData()
Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY is the rowid, numbered for free
ADVISORY_LOCK = 0x626B5F6D6967  # "bk_mig": one key for every process migrating the same PostgreSQL database
ACTIVE = "court_id IS NOT NULL"  # a court booking, not a tombstone

# PostgreSQL sequences: counters that every worker draws from without a serialization conflict. SQLite keeps the
# same counters as rows of `meta` (its writers take turns anyway).
BOOKING_SEQ = Sequence("booking_seq", metadata=metadata, start=1)
ONLIVE_SEQ = Sequence("onlive_seq", metadata=metadata, start=1)
ONLIVE_ORDER = Sequence("onlive_order_seq", metadata=metadata, start=1)  # appointments' per-service order


def _pos() -> Column:
    return Column("pos", Id, primary_key=True, autoincrement=True)


schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

meta = Table(  # control_version, seeded, and SQLite's counters
    "meta",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

control = Table("control", metadata, Column("key", Text, primary_key=True), Column("value", Text, nullable=False))

journal = Table(
    "journal",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("entry", Text, nullable=False),
)

# -- Wingfield: the world, and the users, relations, connect tokens and memberships its API changes ------------

organizations = Table(
    "wf_organizations",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("pro_quota", BigInteger),  # version 2; NULL: no limit
)
facilities = Table(
    "wf_facilities",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("organization_id", Text, nullable=False),
    Column("name", Text, nullable=False),
)
courts = Table(
    "wf_courts",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("facility_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("system_installed", Boolean, nullable=False),
    Index("wf_courts_facility", "facility_id", "pos"),
)
services = Table(
    "wf_services",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
)
tokens = Table(
    "wf_tokens",
    metadata,
    _pos(),
    Column("value", Text, nullable=False, unique=True),
    Column("service_id", Text, nullable=False),
    Column("scopes", Text, nullable=False),  # JSON
    Column("expires_us", BigInteger),
    Column("revoked", Boolean, nullable=False),
    Column("description", Text, nullable=False),
)
users = Table(  # a put is an upsert: a changed user keeps its place, as in the memory store
    "wf_users",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("email", Text, nullable=False),
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("created_by_service_id", Text),
    Column("birthday", Text),  # version 2, and the three after it; ISO date
    Column("gender", Text),
    Column("main_sport_type", Text),
    Column("playing_hand", Text),
    Index("wf_users_email", "email"),  # version 2
)
user_relations = Table(  # a put deletes and inserts: a new `pos`, as the memory store moves it to the end
    "wf_user_relations",
    metadata,
    _pos(),
    Column("service_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("external_user_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    UniqueConstraint("service_id", "user_id"),
    Index("wf_user_relations_service", "service_id", "pos"),  # version 2, and the next
    Index("wf_user_relations_external", "service_id", "external_user_id"),
)
WORLD_US = to_micros(WORLD_INSTANT)  # when the relations of a version-1 database were made, as far as it knows
organization_relations = Table(  # a put deletes and inserts, as user_relations
    "wf_organization_relations",
    metadata,
    _pos(),
    Column("id", Text, nullable=False),
    Column("service_id", Text, nullable=False),
    Column("organization_id", Text, nullable=False),
    Column("external_organization_id", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False, server_default=text(str(WORLD_US))),  # version 2, and the next
    Column("updated_us", BigInteger, nullable=False, server_default=text(str(WORLD_US))),
    UniqueConstraint("service_id", "organization_id"),
    Index("wf_organization_relations_external", "service_id", "external_organization_id"),  # version 2
)
connect_tokens = Table(  # version 2; a put is an upsert (claiming one keeps its place)
    "wf_connect_tokens",
    metadata,
    _pos(),
    Column("value", Text, nullable=False, unique=True),
    Column("organization_id", Text, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
)
memberships = Table(  # version 2; PRO memberships (an upsert), counted per organization by the unique index
    "wf_memberships",
    metadata,
    _pos(),
    Column("organization_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("subscription", Text, nullable=False),
    UniqueConstraint("organization_id", "user_id"),
)
sessions = Table(  # version 2
    "wf_sessions",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("type", Text, nullable=False),
    Column("sport_type", Text, nullable=False),
    Column("duration_seconds", BigInteger, nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("teams", Text, nullable=False),  # JSON [[[user id, name], ...], ...]
    Column("workout_id", Text),
)
session_players = Table(  # version 2: each player of a session once, for a user's sessions in the order added
    "wf_session_players",
    metadata,
    _pos(),
    Column("user_id", Text, nullable=False),
    Column("session_id", Text, nullable=False),
    UniqueConstraint("session_id", "user_id"),
    Index("wf_session_players_user", "user_id", "pos"),
)
videos = Table(  # version 2
    "wf_videos",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("session_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("fps", BigInteger, nullable=False),
    Column("video_url", Text, nullable=False),
    Column("thumbnail_url", Text, nullable=False),
    Column("resolution", Text, nullable=False),
    Index("wf_videos_session", "session_id", "pos"),
)

# -- Wingfield: court mappings and bookings ---------------------------------------------------------------------

mappings = Table(  # a put deletes and inserts: a new `pos`, as the memory store moves it to the end
    "wf_mappings",
    metadata,
    _pos(),
    Column("service_id", Text, nullable=False),
    Column("court_id", Text, nullable=False),
    Column("external_court_id", Text, nullable=False),
    Column("external_court_name", Text),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    UniqueConstraint("service_id", "court_id"),
    Index("wf_mappings_external", "service_id", "external_court_id"),
)

mapping_services = Table(  # each service in the order of its first mapping: MemoryStore.dump groups them so
    "wf_mapping_services",
    metadata,
    _pos(),
    Column("service_id", Text, nullable=False, unique=True),
)

records = Table(  # a booking, or a tombstone (court_id and the booking columns NULL)
    "court_records",
    metadata,
    _pos(),
    Column("service_id", Text, nullable=False),
    Column("external_id", Text, nullable=False),
    Column("court_id", Text),
    Column("court_key", BigInteger),  # PostgreSQL: court_keys.key of court_id, for the exclusion constraint
    Column("start_us", BigInteger),
    Column("end_us", BigInteger),
    Column("external_updated_us", BigInteger, nullable=False),
    Column("participants", Text),  # JSON [[kind, value], ...] in the booking's order: no join to read a booking
    Column("created_us", BigInteger),
    Column("updated_us", BigInteger),
    Column("seq", BigInteger),
    UniqueConstraint("service_id", "external_id", name="court_records_key"),
    # B23 list order, per service and per (service, court); the overlap check per court by start (B13).
    Index(
        "court_records_list",
        "service_id",
        text("updated_us DESC"),
        "seq",
        sqlite_where=text(ACTIVE),
        postgresql_where=text(ACTIVE),
    ),
    Index(
        "court_records_court_list",
        "service_id",
        "court_id",
        text("updated_us DESC"),
        "seq",
        sqlite_where=text(ACTIVE),
        postgresql_where=text(ACTIVE),
    ),
    Index(
        "court_records_starts",
        "court_id",
        "start_us",
        "seq",
        sqlite_where=text(ACTIVE),
        postgresql_where=text(ACTIVE),
    ),
)

court_keys = Table(  # PostgreSQL: a number per court id, never reused; integers make the exclusion index fast
    "court_keys",
    metadata,
    Column("court_id", Text, primary_key=True),
    Column("key", BigInteger, Identity(), nullable=False, unique=True),
)

participants = Table(  # one row per participant of an active booking, in list order for the participant filters
    "court_participants",
    metadata,
    Column("service_id", Text, nullable=False),
    Column("external_id", Text, nullable=False),
    Column("kind", Text, nullable=False),  # user | email
    Column("value", Text, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("service_id", "external_id", "kind", "value"),
    # with external_id: the index alone answers a count, and joins to the booking
    Index("court_participants_list", "service_id", "kind", "value", text("updated_us DESC"), "seq", "external_id"),
)

counts = Table(  # the lists' totalCount without counting (B24): per service, per court, per participant
    "court_counts",
    metadata,
    Column("service_id", Text, nullable=False),
    Column("scope", Text, nullable=False),  # "" every active booking; "c:<court>"; "p:<kind>:<value>"
    Column("shard", Integer, nullable=False),  # each process adds to its own row: no write conflicts on a count
    Column("n", BigInteger, nullable=False),
    PrimaryKeyConstraint("service_id", "scope", "shard"),
)

# -- ONLIVE.SITE -----------------------------------------------------------------------------------------------

onlive_organizations = Table(
    "ol_organizations",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
)
onlive_access_keys = Table(
    "ol_access_keys",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("secret", Text, nullable=False),
    Column("organization_id", Text, nullable=False),
)
onlive_calendars = Table(
    "ol_calendars",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("organization_id", Text, nullable=False),
    Column("fields", Text, nullable=False),  # JSON
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ol_calendars_organization", "organization_id", "pos"),
)
onlive_services = Table(
    "ol_services",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("organization_id", Text, nullable=False),
    Column("fields", Text, nullable=False),  # JSON
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("deleted_us", BigInteger),
    Column("seq", BigInteger, nullable=False),
    Index("ol_services_organization", "organization_id", "pos"),
)
onlive_appointments = Table(
    "ol_appointments",
    metadata,
    _pos(),
    Column("id", Text, nullable=False, unique=True),
    Column("organization_id", Text, nullable=False),
    Column("service_id", Text),
    Column("calendar_ids", Text, nullable=False),  # JSON list
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("fields", Text, nullable=False),  # JSON
    Column("deleted_us", BigInteger),
    Column("service_pos", BigInteger),  # renewed by every put: the memory store moves a re-put to the end
    Index("ol_appointments_organization", "organization_id", "pos"),
    Index("ol_appointments_service", "service_id", "service_pos"),
)

# Tables with a `pos` numbered by the database: after a bulk load, PostgreSQL's sequences must move past it.
POSITIONED = [table for table in metadata.sorted_tables if "pos" in table.c]
# Every table holding the two APIs' state: what `adopt` replaces (control, journal and meta stay).
STATE = [
    organizations,
    facilities,
    courts,
    services,
    tokens,
    users,
    user_relations,
    organization_relations,
    connect_tokens,
    memberships,
    sessions,
    session_players,
    videos,
    mappings,
    mapping_services,
    records,
    participants,
    counts,
    onlive_organizations,
    onlive_access_keys,
    onlive_calendars,
    onlive_services,
    onlive_appointments,
]
COUNTERS = {"booking_seq": BOOKING_SEQ, "onlive_seq": ONLIVE_SEQ, "onlive_order": ONLIVE_ORDER}
NO_OVERLAP = "court_records_no_overlap"
OVERLAP_CONSTRAINT = f"EXCLUDE USING gist (court_key WITH =, int8range(start_us, end_us) WITH &&) WHERE ({ACTIVE})"


def _version_1(connection: Connection) -> None:
    """Everything. PostgreSQL also refuses overlapping active bookings of a court itself (B13), whatever the
    transactions around it do: an exclusion constraint over the court (its number in court_keys: a GiST index
    over integers builds several times faster than over text) and the half-open time range."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
    metadata.create_all(connection)
    if postgres:
        connection.exec_driver_sql(
            "ALTER TABLE court_records ADD CONSTRAINT court_records_keyed "
            "CHECK (court_id IS NULL OR court_key IS NOT NULL)"
        )
        connection.exec_driver_sql(f"ALTER TABLE court_records ADD CONSTRAINT {NO_OVERLAP} {OVERLAP_CONSTRAINT}")
    rows = [{"name": "control_version", "value": 0}, {"name": "seeded", "value": 0}]
    rows += [{"name": name, "value": 0} for name in COUNTERS]
    connection.execute(meta.insert(), rows)
    connection.execute(schema_version.insert(), {"version": 0})


# What version 2 added to the tables of version 1: their new columns (last in each table) and indexes.
VERSION_2_TABLES = [connect_tokens, memberships, sessions, session_players, videos]
VERSION_2_COLUMNS = [
    organizations.c.pro_quota,
    users.c.birthday,
    users.c.gender,
    users.c.main_sport_type,
    users.c.playing_hand,
    organization_relations.c.created_us,
    organization_relations.c.updated_us,
]
VERSION_2_INDEXES = [
    next(index for index in table.indexes if index.name == name)
    for table, name in (
        (users, "wf_users_email"),
        (user_relations, "wf_user_relations_service"),
        (user_relations, "wf_user_relations_external"),
        (organization_relations, "wf_organization_relations_external"),
    )
]


def _version_2(connection: Connection) -> None:
    """Users' profiles, organizations' PRO quotas, organization relations' instants; connect tokens, PRO
    memberships, sessions and their videos; users by e-mail, relations by service and by external id."""
    metadata.create_all(connection, tables=VERSION_2_TABLES)
    for column in VERSION_2_COLUMNS:
        definition = CreateColumn(column).compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE {column.table.name} ADD COLUMN {definition}")
    for index in VERSION_2_INDEXES:
        index.create(connection)


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [(1, _version_1), (2, _version_2)]
LATEST = MIGRATIONS[-1][0]


def current_version(connection: Connection) -> int:
    if not inspect(connection).has_table("schema_version"):
        return 0
    return connection.exec_driver_sql("SELECT version FROM schema_version").scalar_one()


def migrate(connection: Connection) -> int:
    """Run the missing migrations in the caller's transaction, which holds the migration lock; the version."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
    version = current_version(connection)
    for number, step in MIGRATIONS:
        if number > version:
            step(connection)
            version = LATEST if number == 1 else number  # version 1 makes the tables as declared now: the latest
            connection.exec_driver_sql(f"UPDATE schema_version SET version = {version}")
    return version
