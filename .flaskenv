FLASK_APP=wsgi.py
