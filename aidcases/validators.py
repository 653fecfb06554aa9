from django.contrib.auth import password_validation
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django 5.2.x changed this message's msgid ("%(min_length)d" → "%d") and
    the zh_Hans catalogue only translates the old one: say it in Chinese here."""

    def get_error_message(self) -> str:
        return _("密码长度太短。密码必须包含至少 %(min_length)d 个字符。") % {
            "min_length": self.min_length
        }
