"""Sessions and videos: the operations of S1-S3."""

from typing import Any

from mock_server.instants import instant
from mock_server.wingfield.handlers.people import session_json, session_summary_json, video_json
from mock_server.wingfield.handlers.representations import page_json
from mock_server.wingfield.rules.sessions import Sessions


class SessionHandlers:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def listUserSessions(
        self, user: str, userId: str, offset: int = 0, limit: int = 50, **filters: Any
    ) -> dict[str, Any]:
        bounds = {n: instant(filters[n], ["query", n]) for n in ("from", "to") if filters.get(n) is not None}
        found = self.sessions.of_user(
            user, userId, filters.get("sportType"), filters.get("sessionType"), bounds.get("from"), bounds.get("to")
        )
        return page_json([session_summary_json(s) for s in found[offset : offset + limit]], len(found))

    async def getSessionDetails(self, user: str, sessionId: str) -> dict[str, Any]:
        return session_json(self.sessions.get(user, sessionId))

    async def listSessionVideos(
        self, user: str, sessionId: str, offset: int = 0, limit: int = 50, videoType: str | None = None
    ) -> dict[str, Any]:
        found = self.sessions.videos(user, sessionId, videoType)
        return page_json([video_json(v) for v in found[offset : offset + limit]], len(found))
