"""E-mail through an outbox: a message is a row written in the same transaction as the change that
causes it, and a separate drain sends it and retries until it goes through.

Sending inside the request would either lose the notification when the mail server is down or
(as the original Kesäseteli did) roll back the user's work and show an error. With the outbox the
change and its notification commit or roll back together, and delivery is the drain's concern.
"""
