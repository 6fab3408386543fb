"""SenderKey: the stored spelling of who a conversation is with, read and written in one
place (the gateway, verification and the reminders all use it)."""
from __future__ import annotations

import pytest

from billing.core.sender_key import BadSenderKey, SenderKey, sender_key
from billing.verification import channel_identity


@pytest.mark.parametrize(("text", "channel", "user"), [
    ("sms:+15551234567", "sms", "+15551234567"),
    ("tg:4242", "telegram", "4242"),
    ("web:0f8fad5b-d9cb-469f-a165-70867728950e", "web", "0f8fad5b-d9cb-469f-a165-70867728950e"),
    ("email:pat@example.test", "email", "pat@example.test"),  # a new channel needs no entry
])
def test_a_key_reads_back_as_it_was_written(text, channel, user):
    key = SenderKey.parse(text)
    assert (key.channel, key.user) == (channel, user)
    assert str(key) == text == sender_key(channel, user)


def test_a_string_without_a_prefix_is_no_key():
    with pytest.raises(BadSenderKey):
        SenderKey.parse("4242")


def test_verification_links_only_the_gateways_own_spelling():
    assert channel_identity("tg:4242").channel == "telegram"
    assert channel_identity("telegram:4242").channel == "unknown"
    assert channel_identity("email:pat@example.test").channel == "unknown"
    assert channel_identity("4242").channel == "unknown"
