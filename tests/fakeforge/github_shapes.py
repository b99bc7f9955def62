"""The fake GitHub's records as JSON, in the shapes PyGithub reads.

Every URL is absolute under the API prefix, so PyGithub follows `url` fields back
to the fake. The API answers with these and webhook payloads overwrite the
fields of real deliveries with them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakeforge.github import FakeGitHub, FakePull, FakeRepo
    from tests.fakeforge.model import FakeComment, FakeReview, FakeStatus


_MERGEABLE_STATES = {True: "clean", False: "dirty", None: "unknown"}


def iso(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


class GitHubShapes:
    """Mixed into GitHubApi: handlers answer with these, and payload builders reach
    them as `fake.http.pull_json(...)`."""

    fake: FakeGitHub

    def api(self, path: str) -> str:
        return f"{self.fake.api_url}{path}"

    def user_json(self, login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": sum(login.encode()) + 1_000_000,
            "node_id": f"U_{login}",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
            "url": self.api(f"/users/{login}"),
            "html_url": f"{self.fake.web_url}/{login}",
        }

    def repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.user_json(repo.owner),
            "private": False,
            "fork": False,
            "html_url": f"{self.fake.web_url}/{repo.full_name}",
            "url": self.api(f"/repos/{repo.full_name}"),
            "clone_url": repo.clone_url,
            "default_branch": repo.default_branch,
        }

    def pull_json(self, pull: FakePull) -> dict[str, Any]:
        repo = pull.repo
        url = self.api(f"/repos/{repo.full_name}/pulls/{pull.number}")
        issue_url = self.api(f"/repos/{repo.full_name}/issues/{pull.number}")
        base_sha = repo.git.branch_sha(pull.base) or ""

        def side(ref: str, sha: str) -> dict[str, Any]:
            return {
                "label": f"{repo.owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "user": self.user_json(repo.owner),
                "repo": self.repo_json(repo),
            }

        return {
            "url": url,
            "id": pull.id,
            "node_id": f"PR_{pull.id}",
            "html_url": f"{self.fake.web_url}/{repo.full_name}/pull/{pull.number}",
            "issue_url": issue_url,
            "comments_url": f"{issue_url}/comments",
            "review_comments_url": f"{url}/comments",
            "commits_url": f"{url}/commits",
            "statuses_url": self.api(f"/repos/{repo.full_name}/statuses/{pull.head_sha}"),
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "body": pull.body,
            "user": self.user_json(pull.author),
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.closed_at or pull.created_at),
            "closed_at": iso(pull.closed_at),
            "merged_at": iso(pull.closed_at) if pull.merged else None,
            "merge_commit_sha": pull.merge_sha,
            "head": side(pull.branch, pull.head_sha),
            "base": side(pull.base, base_sha),
            "draft": False,
            "merged": pull.merged,
            "mergeable": None if pull.merged else pull.mergeable,
            "mergeable_state": _MERGEABLE_STATES[pull.mergeable],
            "author_association": "CONTRIBUTOR",
        }

    def review_json(self, pull: FakePull, review: FakeReview) -> dict[str, Any]:
        pull_url = self.api(f"/repos/{pull.repo.full_name}/pulls/{pull.number}")
        return {
            "id": review.id,
            "node_id": f"PRR_{review.id}",
            "user": self.user_json(review.user),
            "body": review.body,
            "state": review.state,
            "commit_id": review.commit_id,
            "submitted_at": iso(review.submitted_at),
            "html_url": f"{self.fake.web_url}/{pull.repo.full_name}/pull/{pull.number}"
            f"#pullrequestreview-{review.id}",
            "pull_request_url": pull_url,
            "author_association": "MEMBER",
        }

    def comment_json(self, pull: FakePull, comment: FakeComment) -> dict[str, Any]:
        issue_url = self.api(f"/repos/{pull.repo.full_name}/issues/{pull.number}")
        return {
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "url": self.api(f"/repos/{pull.repo.full_name}/issues/comments/{comment.id}"),
            "html_url": f"{self.fake.web_url}/{pull.repo.full_name}/pull/{pull.number}"
            f"#issuecomment-{comment.id}",
            "issue_url": issue_url,
            "user": self.user_json(comment.user),
            "body": comment.body,
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.created_at),
            "author_association": "NONE",
        }

    def status_json(self, repo: FakeRepo, status: FakeStatus) -> dict[str, Any]:
        return {
            "id": status.id,
            "node_id": f"SC_{status.id}",
            "url": self.api(f"/repos/{repo.full_name}/statuses/{status.sha}"),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.created_at),
            "creator": self.user_json(status.creator),
        }
