"""JSON shapes of users, relations, organization relations, sessions and videos (B28: UTC with Z)."""

from datetime import UTC, datetime, time
from typing import Any

from mock_server.timestamps import format_instant
from mock_server.wingfield.models import OrganizationRelation, Session, User, UserRelation, Video


def user_json(user: User) -> dict[str, Any]:
    """U3: `birthday` as a date-time at 00:00Z."""
    birthday = None if user.birthday is None else format_instant(datetime.combine(user.birthday, time(), UTC))
    return {
        "id": user.id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "birthday": birthday,
        "gender": user.gender,
        "mainSportType": user.main_sport_type,
        "playingHand": user.playing_hand,
    }


def relation_json(relation: UserRelation, user: User | None) -> dict[str, Any]:
    """R4: `user` once ACCEPTED, else null."""
    return {
        "userId": relation.user_id,
        "email": user.email if user else None,
        "externalUserId": relation.external_user_id,
        "status": relation.status,
        "user": user_json(user) if user is not None and relation.status == "ACCEPTED" else None,
    }


def organization_relation_json(relation: OrganizationRelation) -> dict[str, Any]:
    return {
        "id": relation.id,
        "externalServiceId": relation.service_id,
        "organizationId": relation.organization_id,
        "externalOrganizationId": relation.external_organization_id,
        "createdAt": format_instant(relation.created_at),
        "updatedAt": format_instant(relation.updated_at),
    }


def session_summary_json(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "type": session.type,
        "durationSeconds": session.duration_seconds,
        "startedAt": format_instant(session.started_at),
        "sportType": session.sport_type,
        "workoutId": session.workout_id,
    }


def session_json(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "type": session.type,
        "sportType": session.sport_type,
        "durationSeconds": session.duration_seconds,
        "startedAt": format_instant(session.started_at),
        "teams": [{"users": [{"id": p.user_id, "name": p.name} for p in team]} for team in session.teams],
    }


def video_json(video: Video) -> dict[str, Any]:
    return {
        "id": video.id,
        "fps": video.fps,
        "videoUrl": video.video_url,
        "thumbnailUrl": video.thumbnail_url,
        "resolution": video.resolution,
        "type": video.type,
        "sessionId": video.session_id,
    }
