"""Local HTTP doubles of the APIs the gateway talks to (Twilio, Telegram, Rasa's REST
channel): real servers on 127.0.0.1 that record every request and can be told to fail."""
