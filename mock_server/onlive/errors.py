"""The documented ONLIVE.SITE errors: each kind has one status and one message (O5)."""

ERRORS: dict[str, tuple[int, str]] = {
    "invalid_schema": (400, "Invalid input"),
    "unauthorized": (401, "Invalid or missing authorization credentials"),
    "service_has_active_appointments": (403, "Cannot delete service with active appointments"),
    "appointment_forbidden": (403, "Insufficient permissions to access the appointment"),
    "service_not_found": (404, "Service not found"),
    "appointment_not_found": (404, "Appointment not found"),
    "calendar_not_found": (404, "Calendar not found"),
}
