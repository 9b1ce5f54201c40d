/** Text and attribute values escaped for the XML documents AWS's S3, SQS, SNS and STS answers are. */
export const escapeXml = (text: string) =>
  text.replace(/[<>&'"]/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`);
