"""E-mails through a real SMTP server (aiosmtpd on loopback): they name the service and the
organization running it, say "declined" (the FHIR code stays ``rejected``), link straight
to the referral at ``CARENET_BASE_URL``, and carry nothing about the client."""

from __future__ import annotations

from integration.referrals.test_referrals_notifications import free_port, start_server

from carenet.referrals import notifications, workflow


def test_emails_name_the_service_and_organization_and_link_to_the_referral(net, send, app_ctx):
    port = free_port()
    app_ctx.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    app_ctx.config["BASE_URL"] = "https://carenet.example.org/"
    referral = send()
    workflow.reject_referral(net.user("staff_a"), referral.id, 1, "not-eligible")
    controller, inbox = start_server(port)
    try:
        assert notifications.drain_outbox()["sent"] == 3
    finally:
        controller.stop()
    by_kind = {(m["To"], m["Subject"]): m.get_payload() for m in inbox.messages}
    link = f"https://carenet.example.org/referrals/{referral.id}"
    new_text = by_kind[("staff_a@example.org", "carenet: a new referral to Pantry A")]
    assert "Mercy Clinic sent a new referral to Pantry A (Food Bank A)" in new_text
    assert link in new_text
    declined = by_kind[
        ("coordinator@example.org", "carenet: your referral to Pantry A is declined")
    ]
    assert "is now declined" in declined and link in declined and "rejected" not in declined
    for text in by_kind.values():
        secrets = ("Ana", "Lopez", "1950", "305-555", "insecurity")
        assert not any(secret in text for secret in secrets)


def test_status_words_map_only_the_words():
    assert notifications.status_words("rejected") == "declined"
    assert notifications.status_words("in-progress") == "in progress"
    assert notifications.status_words("failed") == "not delivered"
    assert notifications.status_words(None) == ""
    assert notifications.status_words("some-new-code") == "some new code"
