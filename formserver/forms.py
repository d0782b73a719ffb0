"""The forms: fields, validators and their messages (Traditional Chinese). The words they
choose from are in vocabulary.py."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    MultipleFileField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from .sanitize import one_line, plain_text
from .vocabulary import (
    CASE_ACTIONS,
    CATEGORIES,
    FOLLOW_UP_REASONS,
    LIMITS,
    RECIPIENTS,
    REFERENCE,
    normal_reference,
)
from .workdays import local_now


class ChoiceField(RadioField):
    def pre_validate(self, form):
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError("請從列出的選項中選擇一項")


class WhenField(DateTimeLocalField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("請按年、月、日、時、分填寫發生時間，例如 2026-11-27 14:30") from None


def check_reference(field) -> None:
    if not REFERENCE.match(field.data.upper()):
        raise ValidationError("投訴編號的格式應該像 20261127-K7Q-4M2")


def options(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


def required(message: str):
    """Checked after the filters, so text that is only spaces or markup counts as empty."""
    return DataRequired(message=message)


def limit(field: str, label: str):
    most = LIMITS[field]
    return Length(max=most, message=f"{label}不可多於 {most} 個字")


# Far beyond its limit (a paste gone wrong, not a slip): the form comes back with the text cut
# to what the field takes, so that the page stays small; the message says so.
FAR_BEYOND = 4
UNREADABLE = "\ufffd"  # what the browser's bytes became where they were not valid UTF-8


def check_text(form) -> bool:
    """Cut text far over its limit (saying how much was kept), and refuse characters that
    could not be read; False when any field was cut or refused."""
    valid = True
    for field in form:
        if not isinstance(field.data, str):
            continue
        most = next((v.max for v in field.validators if isinstance(v, Length)), None)
        if most and len(field.data) > FAR_BEYOND * most:
            typed = len(field.data)
            field.data = field.data[:most]
            field.errors = [f"{field.label.text}不可多於 {most} 個字：您輸入了 {typed} 個字，"
                            f"表格只保留了首 {most} 個字，請檢查並刪減後再提交"]
            valid = False
        if UNREADABLE in field.data:
            field.errors = [*field.errors, f"{field.label.text}有無法辨認的字元（可能是複製貼上時"
                                           "出錯），請刪除這些字元或重新輸入"]
            valid = False
    return valid


def text_field(label: str, key: str, missing: str = "", *, kind=StringField, multiline=False,
               then=()):
    """A text field that is sanitised (then passed through `then`) before it is checked;
    `missing` makes it required."""
    first = required(missing) if missing else Optional()
    return kind(label, filters=[plain_text if multiline else one_line, *then],
                validators=[first, limit(key, label)])


def reference_field(label: str, missing: str = ""):
    """A complaint's reference, as printed however it was typed (full-width, spaces)."""
    return text_field(label, "follow_up_ref", missing, then=[normal_reference])


class ComplaintForm(FlaskForm):
    name = text_field("姓名", "name", "請填寫您的姓名")
    unit = text_field("座數、樓層及單位", "unit", "請填寫您的座數、樓層及單位")
    phone = text_field("聯絡電話", "phone", kind=TelField)
    email = text_field("電郵地址", "email", kind=EmailField)
    recipient = ChoiceField("交給", choices=options(RECIPIENTS),
                            validators=[InputRequired("請選擇把投訴交給物業管理處還是業主委員會")])
    respondent = text_field("投訴對象", "respondent")
    category = ChoiceField("投訴類別", choices=options(CATEGORIES),
                           validators=[InputRequired("請選擇投訴類別")])
    subject = text_field("投訴標題", "subject", "請用一句話寫出投訴標題")
    description = text_field("投訴事實", "description", "請描述發生了甚麼問題",
                             kind=TextAreaField, multiline=True)
    occurred_at = WhenField("發生時間", [Optional()])
    location = text_field("發生地點", "location")
    impact = text_field("影響程度", "impact", kind=TextAreaField, multiline=True)
    expected_resolution = text_field("期望解決方式", "expected_resolution",
                                     "請寫出您期望的解決方式", kind=TextAreaField, multiline=True)
    evidence = MultipleFileField("證據材料")
    follow_up_ref = reference_field("較早前的投訴編號")
    anonymize = BooleanField("請為我作脫敏處理：在交給管理處的投訴中隱藏我的個人資料")
    # Spam checks without outside services: a field people never see, and when the form was shown.
    homepage = StringField("請不要填寫這一欄")
    form_started = HiddenField()
    keep_evidence = BooleanField()  # keep the draft's files when changing (a hidden input)
    declaration = BooleanField("本人確認以上內容真實，沒有捏造事實或惡意攻擊他人",
                               [required("請確認投訴內容真實，才可提交")])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        valid = check_text(self) and valid
        if not self.phone.data and not self.email.data and not self.phone.errors:
            self.phone.errors = [*self.phone.errors,
                                 "請填寫聯絡電話或電郵地址（最少一項），讓我們可以回覆您"]
            valid = False
        return valid

    def validate_follow_up_ref(self, field):
        check_reference(field)

    def validate_phone(self, field):
        try:
            number = phonenumbers.parse(field.data, current_app.config["REGION"])
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_possible_number(number):
            raise ValidationError("請輸入正確的電話號碼，例如 9123 4567 或 +852 9123 4567")

    def validate_email(self, field):
        if "=?" in field.data:  # an encoded word: no real address looks like this
            raise ValidationError("請輸入正確的電郵地址，例如 chan@example.com")
        try:
            checked = validate_email(field.data, check_deliverability=False)
        except EmailNotValidError:
            raise ValidationError("請輸入正確的電郵地址，例如 chan@example.com") from None
        field.data = checked.normalized  # e.g. the domain in lower case and its usual form

    def validate_occurred_at(self, field):
        # As typed, in the estate's time: the server's own clock may be in another zone.
        now = local_now(current_app.config["REGION"]).replace(tzinfo=None, second=59)
        if field.data and field.data > now:
            raise ValidationError("發生時間不可以在將來")


class SendForm(FlaskForm):
    """The review page's send button: which draft, as it was reviewed (another tab may have
    changed it since)."""

    draft = HiddenField()
    digest = HiddenField()


class FollowUpForm(FlaskForm):
    reference = reference_field("投訴編號", "請填寫投訴編號")
    reason = ChoiceField("跟進原因", choices=options(FOLLOW_UP_REASONS),
                         validators=[InputRequired("請選擇跟進原因")])
    details = text_field("仍未解決的問題", "follow_up_details", "請寫出仍未解決的問題",
                         kind=TextAreaField, multiline=True)
    access_code = text_field("查詢碼", "access_code", "請填寫查詢碼（在確認頁或確認電郵上）")
    homepage = StringField("請不要填寫這一欄")
    form_started = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return check_text(self) and valid

    def validate_reference(self, field):
        check_reference(field)


# --- the case: the resident's status page, the office's case page --------------------------

class StatusForm(FlaskForm):
    reference = reference_field("投訴編號", "請填寫投訴編號")
    access_code = text_field("查詢碼", "access_code", "請填寫查詢碼")

    def validate_reference(self, field):
        check_reference(field)


class CaseActionForm(FlaskForm):
    """One of the office's actions; the page asks to confirm before anything is recorded."""
    action = ChoiceField("操作", choices=options(CASE_ACTIONS),
                         validators=[InputRequired("請選擇操作")])
    # No Optional(): it would end the checks before validate_message sees an empty reply.
    message = TextAreaField("回覆或處理結果", filters=[plain_text],
                            validators=[limit("case_message", "回覆或處理結果")])
    handled_by = text_field("處理人（姓名或簡稱）", "handled_by")

    def validate_message(self, field):
        needed = {"reply": "請寫下給投訴人的回覆", "resolve": "請寫下處理結果：做了甚麼"}
        if self.action.data in needed and not field.data:
            raise ValidationError(needed[self.action.data])


class ConfirmForm(FlaskForm):
    """A confirmation's button: the CSRF token and the signed step it confirms."""
    step = HiddenField()


class OfficeLoginForm(FlaskForm):
    password = PasswordField("管理處密碼", [required("請輸入管理處密碼"),
                                            limit("office_password", "密碼")])
