from zoneinfo import available_timezones

TIME_ZONE_CHOICES = [(name, name) for name in sorted(available_timezones())]
