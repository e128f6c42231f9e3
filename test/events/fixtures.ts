/** Small hand-written CDEvents for tests that must run without ../shared. */
export function pipelineRunFinished (): Record<string, any> {
  return {
    context: {
      specversion: '0.5.1',
      id: '7d3e2c1a-0000-4000-8000-000000000001',
      source: '/ci/jenkins/main',
      type: 'dev.cdevents.pipelinerun.finished.0.3.0',
      timestamp: '2024-05-01T12:00:00Z'
    },
    subject: {
      id: 'build-42',
      source: '/ci/jenkins/main',
      content: { pipelineName: 'build', uri: 'https://ci.example.com/job/build/42', outcome: 'success' }
    }
  }
}

export function ticketClosed (): Record<string, any> {
  return {
    context: {
      specversion: '0.5.1',
      id: 'ticket-closed-1',
      source: '/tickets',
      type: 'dev.cdevents.ticket.closed.0.2.0',
      timestamp: '2024-05-01T12:00:00Z'
    },
    subject: {
      id: 'T-1',
      content: { uri: 'https://tickets.example.com/T-1', resolution: 'completed' }
    }
  }
}

export function customEvent (): Record<string, any> {
  return {
    context: {
      specversion: '0.5.1',
      id: 'custom-1',
      source: '/mytool',
      type: 'dev.cdeventsx.mytool-resource.created.0.1.0',
      timestamp: '2024-05-01T12:00:00.123456+02:00'
    },
    subject: { id: 'res-1', content: { anything: { goes: [1, 2, 3] } } }
  }
}
