"""`homeserver send-test-mail`: an operator checks the email configuration with a real SMTP
server (aiosmtpd); what fails is said on the command line."""

from click.testing import CliRunner

from homeserver.cli import main
from mail_support import MailServer


def run(tmp_path, *args, email_port=None):
    config = tmp_path / "homeserver.yaml"
    text = f"server_name: localhost:8008\ndata_dir: {tmp_path / 'data'}\n"
    if email_port is not None:
        text += (f"email:\n  smtp_host: 127.0.0.1\n  smtp_port: {email_port}\n"
                 "  notif_from: \"Matrix <noreply@example.org>\"\n")
    config.write_text(text)
    return CliRunner().invoke(main, ["send-test-mail", *args],
                              env={"HOMESERVER_CONFIG": str(config)})


def test_sends_and_reports(tmp_path):
    server = MailServer()
    try:
        result = run(tmp_path, "Admin@Example.org", email_port=server.port)
        assert result.exit_code == 0, result.output
        assert "sent to admin@example.org" in result.output
        mail = server.wait_for("admin@example.org")
        assert "localhost:8008" in mail.get_body(("plain",)).get_content()
        server.refuse_with = "550 5.1.1 No such mailbox"
        refused = run(tmp_path, "admin@example.org", email_port=server.port)
        assert refused.exit_code == 1 and "not sent: PermanentFailure" in refused.output
    finally:
        server.close()


def test_configuration_problems(tmp_path):
    assert "no email section" in run(tmp_path, "a@example.org").output
    assert "Unable to parse email address" in run(tmp_path, "nope", email_port=25).output
