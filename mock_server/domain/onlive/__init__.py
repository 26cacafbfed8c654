"""The rules of the ONLIVE.SITE booking-service API (O1-O7), in plain Python."""
