from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from aidcases.areapicker import AreaPickerField
from aidcases.models import Area, User


class UserForm(forms.Form):
    username = forms.CharField(label=_("登录名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=50)
    role = forms.ChoiceField(label=_("角色"), choices=User.Role.choices)
    # Only system admins manage users (access.users_for): every area may be chosen.
    area = AreaPickerField(
        label=_("所属区域"),
        levels=(Area.Level.COUNTY, Area.Level.TOWNSHIP, Area.Level.VILLAGE),
        required=False,
        help_text=_("乡镇专干、服务队队长必填；县级角色可留空（可查看全县）。"),
    )
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput(render_value=False),
        help_text=_("至少10位，不能全是数字，不能太常见。"),
    )

    def __init__(self, *args, editing: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing is not None:
            # Login name and password are not changed here (reset has its own page).
            del self.fields["password"]
            self.fields["username"].disabled = True

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        others = User.objects.filter(username__iexact=username)
        if self.editing is not None:
            others = others.exclude(pk=self.editing.pk)
        if others.exists():
            raise forms.ValidationError(_("登录名“%(name)s”已被使用。"), params={"name": username})
        return username

    def clean(self):
        data = super().clean()
        if data.get("role") in User.AREA_BOUND_ROLES and not data.get("area"):
            self.add_error("area", _("乡镇专干和服务队队长必须指定所属区域。"))
        if "password" in self.fields and data.get("password"):
            probe = User(username=data.get("username", ""), full_name=data.get("full_name", ""))
            try:
                validate_password(data["password"], probe)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class PasswordResetForm(forms.Form):
    password = forms.CharField(label=_("新密码"), widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("再次输入新密码"), widget=forms.PasswordInput)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif data.get("password"):
            try:
                validate_password(data["password"], self.user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data
