from __future__ import annotations

from domain.mail.messages import INVITATION_SUBJECT, Invited, assign_admin_email, invitation_email

INVITED = Invited(
    invitation_id=42, program_name="CSP <Growth>", location_name="Contoso Paris", partner_id="1000007"
)


def test_invitation_email_names_program_location_and_partner_id_with_a_get_started_link() -> None:
    email = invitation_email(INVITED, "ada@contoso.example", 0, public_url="https://incentives.example/")
    assert email.subject == "Partner Incentive Enrollment Invitation" == INVITATION_SUBJECT
    assert email.to_address == "ada@contoso.example"
    for body in (email.body_text, email.body_html):
        assert "Contoso Paris" in body
        assert "1000007" in body
        assert "Get Started" in body
    assert "CSP <Growth>" in email.body_text
    assert "https://incentives.example/console/invitations/42" in email.body_text
    assert 'href="https://incentives.example/console/invitations/42"' in email.body_html


def test_html_body_escapes_names() -> None:
    email = invitation_email(INVITED, "ada@contoso.example", 0, public_url="http://127.0.0.1:8000")
    assert "CSP &lt;Growth&gt;" in email.body_html
    assert "<Growth>" not in email.body_html


def test_message_ids_are_stable_and_differ_per_recipient() -> None:
    first = invitation_email(INVITED, "a@contoso.example", 0, public_url="http://x")
    again = invitation_email(INVITED, "a@contoso.example", 0, public_url="http://x")
    second = invitation_email(INVITED, "b@contoso.example", 1, public_url="http://x")
    assert first.message_id == again.message_id == "<invitation-42-0@incentives>"
    assert second.message_id == "<invitation-42-1@incentives>"


def test_email_to_global_and_account_admins_asks_them_to_assign_an_incentives_admin() -> None:
    email = assign_admin_email(INVITED, "ga@contoso.example", 0, public_url="http://x")
    assert email.subject == INVITATION_SUBJECT
    assert "assign an Incentives admin" in email.body_text
    assert "1000007" in email.body_text
    assert "Get Started" in email.body_html
