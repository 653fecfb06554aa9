"""gunicorn settings for the web container (read from the working directory, /app).

The access log leaves out query strings and the Referer: a search by name, phone or ID number
travels in the query string, and neither the log nor anyone who reads it should keep it.
"""

bind = "0.0.0.0:8000"
workers = 3
timeout = 120
accesslog = "-"
# host, time, "METHOD /path PROTOCOL" (%(U)s is the path without the query), status, bytes,
# duration in ms, user agent. Not %(r)s, %(q)s or %(f)s: those carry the query string.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
