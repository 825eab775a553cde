from django.urls import include, path

from dilemmagesprek.accounts import admin_views, pages, two_factor
from dilemmagesprek.accounts import views as account_views
from dilemmagesprek.conversations import lobby_views
from dilemmagesprek.conversations import views as conversation_views
from dilemmagesprek.ops import health, metrics
from dilemmagesprek.preparations import views as preparation_views
from dilemmagesprek.reports import views as report_views
from dilemmagesprek.worksheets import views as worksheet_views

conversation_patterns = [
    path("", worksheet_views.worksheet, name="worksheet"),
    path("leden/", conversation_views.members, name="members"),
    path("leden/<str:member_id>/", conversation_views.update_member, name="update_member"),
    path("leden/<str:member_id>/toelaten/", lobby_views.admit, name="admit"),
    path("code/", lobby_views.join_code, name="join_code"),
    path("code/qr.svg", lobby_views.join_qr, name="join_qr"),
    path("leden/<str:member_id>/link/", conversation_views.renew_link, name="renew_link"),
    path("leden/<str:member_id>/intrekken/", conversation_views.revoke_link, name="revoke_link"),
    path(
        "leden/<str:member_id>/verwijderen/", conversation_views.remove_member,
        name="remove_member",
    ),
    path("instellingen/", conversation_views.settings_view, name="settings"),
    path("bewaartermijn/", conversation_views.retention, name="retention"),
    path("vernietigen/", conversation_views.destroy, name="destroy"),
    path("status/", conversation_views.change_status, name="change_status"),
    path("stap/", worksheet_views.change_step, name="change_step"),
    path("klok/", worksheet_views.timer, name="timer"),
    path("leiden/", worksheet_views.lead, name="lead"),
    path("scherm/", worksheet_views.projector, name="projector"),
    path("voorbereiding/", preparation_views.preparation, name="preparation"),
    path("veld/<str:key>/", worksheet_views.set_field, name="set_field"),
    path("veld/<str:key>/bevestigen/", worksheet_views.confirm_field, name="confirm_field"),
    path("veld/<str:key>/actie/", worksheet_views.add_next_step, name="add_next_step"),
    path("veld/<str:key>/evaluatie/", worksheet_views.save_evaluation, name="save_evaluation"),
    path("tabel/<str:matrix>/kolom/", worksheet_views.add_column, name="add_column"),
    path("kolom/<str:column_id>/", worksheet_views.rename_column, name="rename_column"),
    path("kolom/<str:column_id>/verplaatsen/", worksheet_views.move_column, name="move_column"),
    path("kolom/<str:column_id>/verwijderen/", worksheet_views.remove_column, name="remove_column"),
    path("kolom/<str:column_id>/kaart/", worksheet_views.add_card, name="add_card"),
    path("kaart/<str:card_id>/", worksheet_views.edit_card, name="edit_card"),
    path("kaart/<str:card_id>/verwijderen/", worksheet_views.remove_card, name="remove_card"),
    path("kaart/<str:card_id>/terugzetten/", worksheet_views.restore_card, name="restore_card"),
    path("kolom/<str:column_id>/woo/", worksheet_views.tag_woo_grounds, name="tag_woo_grounds"),
    path("actie/<str:step_id>/", worksheet_views.edit_next_step, name="edit_next_step"),
    path(
        "actie/<str:step_id>/verwijderen/", worksheet_views.remove_next_step,
        name="remove_next_step",
    ),
    path("verslag/<str:fmt>/", report_views.download, name="report"),
    path("samenvatting/concept/", report_views.summary_draft, name="summary_draft"),
]

dg_patterns = [
    path(".well-known/security.txt", account_views.security_txt, name="security_txt"),
    path("health/live", health.live, name="health_live"),
    path("health/ready", health.ready, name="health_ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", conversation_views.home, name="home"),
    path("inloggen/", account_views.LoginView.as_view(), name="login"),
    path("uitloggen/", account_views.LogoutView.as_view(), name="logout"),
    path("inloggen/code/", two_factor.login_code, name="login_code"),
    path("account/tweestaps/", two_factor.setup, name="two_factor"),
    path("beheer/", admin_views.users, name="admin_users"),
    path("beheer/gebruikers/<int:user_id>/", admin_views.change_user, name="admin_change_user"),
    path("beheer/beleid/", admin_views.policy, name="admin_policy"),
    path("beheer/audit/", admin_views.audit_log, name="admin_audit"),
    path("taal/", account_views.set_language, name="set_language"),
    path("toegankelijkheid/", pages.accessibility_statement, name="accessibility"),
    path("privacy/", pages.privacy_statement, name="privacy"),
    path("gesprekken/", conversation_views.index, name="conversations"),
    path("gesprekken/nieuw/", worksheet_views.new_conversation, name="new_conversation"),
    path("gesprekken/importeren/", report_views.import_conversation, name="import_conversation"),
    path("uitnodiging/<str:token>/", conversation_views.join, name="join"),
    path("doe-mee/", lobby_views.enter_code, name="enter_code"),
    path("doe-mee/naam/", lobby_views.lobby_name, name="lobby_name"),
    path("doe-mee/wachten/", lobby_views.lobby_wait, name="lobby_wait"),
    path("g/<str:conversation_id>/", include(conversation_patterns)),
]

urlpatterns = [path("", include((dg_patterns, "dg")))]
