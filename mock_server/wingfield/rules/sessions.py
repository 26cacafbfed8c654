"""Sessions and their videos: read-only records of play, visible when every player is (S1-S3)."""

from datetime import datetime

from mock_server.violations import RuleViolation
from mock_server.wingfield.models import Session, Video
from mock_server.wingfield.rules.access import visible_user
from mock_server.wingfield.store.base import Store


class Sessions:
    def __init__(self, store: Store) -> None:
        self.store = store

    def visible(self, service_id: str, session: Session) -> bool:
        """S1: every participant is a visible user."""
        return all(visible_user(self.store, service_id, user_id) for user_id in session.player_ids)

    def of_user(
        self,
        service_id: str,
        user_id: str,
        sport_type: str | None = None,
        session_type: str | None = None,
        start_from: datetime | None = None,
        start_to: datetime | None = None,
    ) -> list[Session]:
        """S2: newest `startedAt` first, then by id; `from`/`to` bound `startedAt` as [from, to)."""
        if start_from is not None and start_to is not None and start_from > start_to:
            raise RuleViolation("invalid_filter_time_range", "from must not be after to")
        if not visible_user(self.store, service_id, user_id):
            raise RuleViolation("user_access_denied", f"the service has no access to user {user_id}")
        found = [
            session
            for session in self.store.sessions_of_user(user_id)
            if (sport_type is None or session.sport_type == sport_type)
            and (session_type is None or session.type == session_type)
            and (start_from is None or session.started_at >= start_from)
            and (start_to is None or session.started_at < start_to)
            and self.visible(service_id, session)
        ]
        found.sort(key=lambda s: s.id)
        found.sort(key=lambda s: s.started_at, reverse=True)
        return found

    def get(self, service_id: str, session_id: str) -> Session:
        """S3."""
        session = self.store.session(session_id)
        if session is None:
            raise RuleViolation("session_not_found", f"session {session_id} does not exist")
        if not self.visible(service_id, session):
            raise RuleViolation("user_access_denied", "the service has no access to every player of the session")
        return session

    def videos(self, service_id: str, session_id: str, video_type: str | None = None) -> list[Video]:
        """S3: filter `videoType`; the order is free (P4)."""
        self.get(service_id, session_id)
        return [v for v in self.store.videos_of_session(session_id) if video_type is None or v.type == video_type]
