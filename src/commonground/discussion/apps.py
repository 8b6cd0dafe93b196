from django.apps import AppConfig


class DiscussionConfig(AppConfig):
    name = "commonground.discussion"
    verbose_name = "Discussion"

    def ready(self) -> None:
        from commonground.core.group_links import GroupLink, register_group_link
        from commonground.core.personal_data import register_personal_data

        from . import selectors
        from .policies import MODERATING_ROLES

        register_personal_data("comments", selectors.comments_for_export)
        register_group_link(
            GroupLink(
                key="moderation",
                label="Moderation",
                url_name="discussion:moderation",
                visible=lambda viewer: bool(viewer.roles & MODERATING_ROLES),
                order=90,
            )
        )
