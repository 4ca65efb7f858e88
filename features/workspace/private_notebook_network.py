"""The private network of a notebook without internet: isolated subnets and VPC endpoints."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from features.shared.nag_acknowledgments import acknowledge

# Interface endpoints a notebook without internet needs (service names as in
# aws_ec2.InterfaceVpcEndpointAwsService); S3 is a gateway endpoint.
VPC_INTERFACE_ENDPOINTS = {
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "StepFunctions": ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
}


class PrivateNotebookNetwork(Construct):
    """Owns a VPC with isolated subnets only (no NAT, no internet gateway), its flow log, the S3
    gateway endpoint and the interface endpoints the notebooks call, in the notebook's AZ.

    The notebook attaches to `subnet` with `security_group` (HTTPS out, nothing in).
    """

    def __init__(self, scope: Construct, id_: str, *, key: kms.IKey) -> None:
        super().__init__(scope, id_)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="notebook", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        flow_log_group = logs.LogGroup(
            self, "FlowLogs", retention=logs.RetentionDays.ONE_YEAR, encryption_key=key
        )
        flow_log = self.vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group)
        )
        acknowledge(
            flow_log,
            {
                "NIST.800.53.R5-IAMNoInlinePolicy": "CDK's flow-log role: write access to its "
                "one log group, defined by aws-ec2 next to the role it belongs to.",
            },
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=self.vpc,
            description="Notebook instance: no inbound; HTTPS out to the VPC endpoints",
            allow_all_outbound=False,
        )
        endpoint_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="VPC interface endpoints: HTTPS from the notebook only",
            allow_all_outbound=False,
        )
        endpoint_group.add_ingress_rule(self.security_group, ec2.Port.tcp(443), "notebook")
        cannot_evaluate = (
            "The only ingress is HTTPS from the notebook's security group, a reference the "
            "rule cannot evaluate (it throws on intrinsics); no CIDR range is open."
        )
        acknowledge(
            endpoint_group,
            {
                "AwsSolutions-EC23": cannot_evaluate,
                "NIST.800.53.R5-EC2RestrictedCommonPorts": cannot_evaluate,
                "NIST.800.53.R5-EC2RestrictedSSH": cannot_evaluate,
            },
        )
        # The subnets have no route to the internet: HTTPS leaves only to the interface
        # endpoints and the S3 gateway endpoint (whose prefix list is only known at deploy time).
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to VPC endpoints and the S3 gateway"
        )
        self.subnet = self.vpc.isolated_subnets[0]
        # One AZ, the notebook's: interface endpoints are billed per AZ-hour.
        for name, service in VPC_INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                security_groups=[endpoint_group],
                private_dns_enabled=True,
                open=False,  # HTTPS from the notebook only (endpoint_group)
                subnets=ec2.SubnetSelection(subnets=[self.subnet]),
            )
