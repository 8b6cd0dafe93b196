"""The publishing app: articles and interviews, the movement's public face, with
threaded, moderated discussion from the discussion app."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import Label

# What the group log says for each action this app records.
AUDIT_ACTIONS: dict[str, Label] = {
    "article.created": _("started an article"),
    "article.submitted": _("sent an article for review"),
    "article.changes_requested": _("asked for changes to an article"),
    "article.published": _("published an article"),
    "article.scheduled": _("scheduled an article"),
    "article.unscheduled": _("took back a scheduled article"),
    "article.corrected": _("published a correction to an article"),
    "article.withdrawn": _("withdrew an article"),
    "article.image_added": _("added a picture to an article"),
    "article.image_removed": _("removed a picture from an article"),
    "publishing.policy_changed": _("changed whether articles need an editor's review"),
}


class PublishingConfig(AppConfig):
    name = "commonground.publishing"
    verbose_name = _("Publishing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commonground.core.capabilities import (
            CallToAction,
            Capability,
            GroupSection,
            HomeSection,
            register,
        )

        from . import demo, discussions, home, rules, selectors, services
        from .models import Article
        from .notifications import NOTIFICATION_KINDS

        register(
            Capability(
                app=self.name,
                group_sections=(
                    GroupSection(
                        key="articles",
                        label=_("Articles"),
                        url_name="publishing:group_articles",
                        visible=rules.can_see_group_articles,
                        order=40,
                        count=selectors.articles_count,
                        overview=selectors.articles_overview,
                    ),
                ),
                personal_data={"articles": selectors.personal_data_articles},
                erase_personal_data=services.author_forget,
                audit_actions=AUDIT_ACTIONS,
                discussion_rules={Article: discussions.ArticleDiscussion()},
                demo_seed=demo.seed,
                notification_kinds=NOTIFICATION_KINDS,
                home_sections=(
                    HomeSection(
                        key="latest_articles",
                        title=_("Latest articles"),
                        template="publishing/home/latest.html",
                        context=home.latest_articles,
                        order=10,
                    ),
                ),
                calls_to_action=(
                    CallToAction(
                        key="join",
                        label=_("Join the group that published it"),
                        template="publishing/cta/join.html",
                        context=home.join_call,
                        order=10,
                    ),
                ),
            )
        )
