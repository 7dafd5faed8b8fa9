"""Ownership is read from a table's tags, and ListTagsOfResource answers in pages: a table
whose gtcheck:run tag sits on a later page is still gtcheck's (and one without it on any
page is still not). Through boto3 over HTTP against the emulator, which pages as DynamoDB
does (emulator/cluster.py: 10 tags a page)."""

from emulator.deployment import Deployment
from emulator.testing import client, create_global_table
from suite.targets.aws_cleanup import RUN_TAG, copy_tags


def test_a_run_tag_on_a_later_page_of_tags_is_found():
    with Deployment(["us-east-1"], latency_scale=0, seed=3) as d:
        c = client(d.endpoint, "us-east-1")
        create_global_table(d, "gtcheck-paged")
        arn = c.describe_table(TableName="gtcheck-paged")["Table"]["TableArn"]
        c.tag_resource(ResourceArn=arn, Tags=[{"Key": f"a-user-{i:02d}", "Value": "x"}
                                               for i in range(14)])
        first = c.list_tags_of_resource(ResourceArn=arn)
        assert first.get("NextToken"), "the emulator must page tags for this test to mean much"
        desc, tags = copy_tags(lambda region: client(d.endpoint, region), "us-east-1",
                               "gtcheck-paged")
        assert desc is not None and RUN_TAG not in tags and len(tags) == 14
        c.tag_resource(ResourceArn=arn, Tags=[{"Key": RUN_TAG, "Value": "run-7"}])
        _, tags = copy_tags(lambda region: client(d.endpoint, region), "us-east-1",
                            "gtcheck-paged")
        assert tags[RUN_TAG] == "run-7" and len(tags) == 15
        # the case this guards: the run tag is not on the first page
        first = c.list_tags_of_resource(ResourceArn=arn)
        assert RUN_TAG not in {t["Key"] for t in first["Tags"]}
